import { SYSTEM_PYTHON } from '../test/helpers/libtorrent.js'
import { run } from '../test/helpers/run.js'

/** What the benchmarks of `evertorrent create` measure of one command (see `measure`). */
export interface Measurement {
  readonly seconds: number
  readonly peakRssKiB: number
  readonly userSeconds: number
  readonly systemSeconds: number
}

/**
 * Wall time (Python's clock), CPU time and peak RSS of one command. The peak RSS comes from GNU time, not
 * from Python's RUSAGE_CHILDREN: Linux keeps the forking process's high-water mark across exec, so any
 * child of Python reads at least ~10 MiB (more than mktorrent uses); under GNU time the floor is ~1 MiB.
 */
const MEASURE_PY = `
import json, resource, subprocess, sys, tempfile, time
with tempfile.NamedTemporaryFile('r') as peak:
    start = time.perf_counter()
    child = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', peak.name, *sys.argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    peak_kib = int(peak.read().split()[-1])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({'exitCode': child.returncode, 'seconds': seconds, 'peakRssKiB': peak_kib,
           'userSeconds': usage.ru_utime, 'systemSeconds': usage.ru_stime,
           'stderr': child.stderr.decode('utf-8', 'replace')[-2000:]}, sys.stdout)
`

/** Each in a process group of its own, so that an interrupted benchmark kills the measured command under Python and GNU time too. */
export async function measure (argv: readonly string[]): Promise<Measurement> {
  const { exitCode, stdout, stderr } = await run(SYSTEM_PYTHON, ['-c', MEASURE_PY, ...argv], { detached: true })
  if (exitCode !== 0) throw new Error(`${SYSTEM_PYTHON} could not measure ${argv.join(' ')} (exit code ${exitCode}):\n${stderr}`)
  const result = JSON.parse(stdout) as Measurement & { exitCode: number, stderr: string }
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed with exit code ${result.exitCode}:\n${result.stderr}`)
  return result
}

