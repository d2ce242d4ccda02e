import test from 'ava'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, pollPage } from '../helpers/page-poll.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

// The window before the page is mounted lasts a few milliseconds: a few starts, polled every 2 ms from
// the spawn, see it (before the fix, 4 starts of 5 in bench-startup answered 404 first).
const STARTS = 3

test('the status page answers 200 from its first answer on, never a 404 while serve starts', async (t) => {
  for (let start = 0; start < STARTS; start++) {
    const root = tempDir(t)
    const library = join(root, 'library')
    mkdirSync(library)
    const port = await freePort()
    const serve = ServeProcess.spawn({ libraries: [library], stateDir: join(root, 'state'), asService: true, ports: { http: port, tracker: 0, peer: 0 } })
    t.teardown(async () => { await serve.stop() })
    const poll = await pollPage({ port, since: serve.spawnedAt, afterOkPolls: 50 })
    t.deepEqual(poll.notOkBefore, [], `start ${start + 1}: GET / answered ${poll.notOkBefore.join(' ')} before its first 200`)
    t.deepEqual(poll.notOkAfter, [], `start ${start + 1}: GET / answered ${poll.notOkAfter.join(' ')} after its first 200`)
    t.is(poll.firstStatus, 200)
    await serve.waitFor((line) => line.msg === 'ready', 30_000)
    t.is(await serve.stop(), 0, serve.describe())
  }
})
