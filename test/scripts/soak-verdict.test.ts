import test from 'ava'
import { DEFAULT_VERDICT, judgeSamples, leastSquaresSlope, median, warmUpSeconds, type SoakSample } from '../../scripts/soak/verdict.js'

const MB = 1e6
const HOUR = 3600
const MEMORY_MAX = 288 * 1024 * 1024

/** A sample every 10 s for `seconds`, from a function of the time, with a deterministic wobble. */
function series (seconds: number, rss: (at: number) => number, fds: (at: number) => number = () => 40, quiet: (at: number) => boolean = () => true): SoakSample[] {
  const samples: SoakSample[] = []
  for (let at = 0; at <= seconds; at += 10) {
    const wobble = Math.sin(at / 37)
    samples.push({ atSeconds: at, rssBytes: rss(at) + wobble * 2 * MB, fds: Math.round(fds(at) + wobble * 6), quiet: quiet(at) })
  }
  return samples
}

const judge = (samples: SoakSample[], runSeconds = HOUR, settledAt = 0): ReturnType<typeof judgeSamples> =>
  judgeSamples(samples, { ...DEFAULT_VERDICT, warmUpSeconds: warmUpSeconds(runSeconds, settledAt), memoryMaxBytes: MEMORY_MAX })

test('a flat hour passes', (t) => {
  const verdict = judge(series(HOUR, () => 70 * MB, () => 45))
  t.deepEqual(verdict.failures, [])
  t.false(verdict.rss!.grows)
  t.false(verdict.fds!.grows)
})

test('RSS growing 30 MB an hour fails, with the figures it judged on', (t) => {
  const verdict = judge(series(HOUR, (at) => 70 * MB + 30 * MB * at / HOUR))
  t.is(verdict.failures.length, 1)
  t.regex(verdict.failures[0]!, /^RSS grows without bound: \+3\d\.\d MB\/hour over the second half \(limit 20\.0\), last-quarter median/)
  t.true(verdict.rss!.rise > 10 * MB)
})

test('fds growing one a minute fail; RSS flat beside them does not', (t) => {
  const verdict = judge(series(HOUR, () => 70 * MB, (at) => 40 + at / 60))
  t.is(verdict.failures.length, 1)
  t.regex(verdict.failures[0]!, /^open fds grow without bound/)
  t.false(verdict.rss!.grows)
})

test('growth during the warm-up, and a cache that fills once and then stays, pass', (t) => {
  const warmUp = judge(series(HOUR, (at) => at < 300 ? 40 * MB + 30 * MB * at / 300 : 70 * MB))
  t.deepEqual(warmUp.failures, [])
  const cache = judge(series(HOUR, (at) => 70 * MB + Math.min(at, 1800) / 1800 * 20 * MB))
  t.true(cache.rss!.rise > 10 * MB, 'it did rise')
  t.deepEqual(cache.failures, [], 'but it no longer grows')
})

test('the memory kept after the first burst is a plateau: the warm-up lasts until it is over', (t) => {
  // A three-minute run whose idle-socket burst (140-190 s) leaves 70 MB behind for the next one.
  const burst = (at: number): boolean => at >= 140 && at < 190
  const plateau = series(200, (at) => at < 150 ? 100 * MB : 170 * MB, () => 60, (at) => !burst(at))
  t.regex(judge(plateau, 180).failures[0] ?? '', /^RSS grows/, 'judged from 18 s, the step looks like growth')
  const settled = judge(plateau, 180, 190)
  t.deepEqual(settled.failures, [], 'judged from the end of the burst, there is too little left to judge')
  t.regex(settled.notes[0]!, /growth not judged/)
  // In an hour the same step early on is judged, and passes: the second half is flat.
  t.deepEqual(judge(series(HOUR, (at) => at < 480 ? 70 * MB : 130 * MB), HOUR, 490).failures, [])
})

test('bursts of held connections are not growth; RSS above MemoryMax fails even in a burst', (t) => {
  const burst = (at: number): boolean => at % 600 >= 100 && at % 600 < 140
  const spiky = series(HOUR, (at) => burst(at) ? 150 * MB : 70 * MB, (at) => burst(at) ? 20_040 : 40, (at) => !burst(at))
  t.deepEqual(judge(spiky).failures, [])
  t.true(judge(spiky).peakFds >= 20_040, 'the peak is reported')

  const over = series(HOUR, (at) => burst(at) && at > 3000 ? 320 * MB : 70 * MB, () => 40, (at) => !burst(at))
  const verdict = judge(over)
  t.is(verdict.failures.length, 1)
  t.regex(verdict.failures[0]!, /above the unit's MemoryMax/)
})

test('a slow rise of a few MB in an hour passes: noise, not a leak', (t) => {
  t.deepEqual(judge(series(HOUR, (at) => 70 * MB + 5 * MB * at / HOUR)).failures, [])
})

test('a short run: growth is judged against the same limits, and too few samples say so instead', (t) => {
  t.regex(judge(series(180, (at) => 70 * MB + 20 * MB * at / 180), 180).failures[0] ?? '', /^RSS grows/)
  t.deepEqual(judge(series(180, () => 70 * MB), 180).failures, [])
  const tooShort = judge(series(60, (at) => 70 * MB + 30 * MB * at / 60), 60)
  t.deepEqual(tooShort.failures, [])
  t.regex(tooShort.notes[0]!, /growth not judged/)
})

test('median and least-squares slope', (t) => {
  t.is(median([3, 1, 2]), 2)
  t.is(median([4, 1, 3, 2]), 2.5)
  t.is(leastSquaresSlope([[0, 1], [1, 3], [2, 5]]), 2)
  t.is(leastSquaresSlope([[5, 1]]), 0)
})
