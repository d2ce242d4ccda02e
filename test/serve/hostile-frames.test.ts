import test from 'ava'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { webSocketExchange } from '../tracker/tracker-client.js'
import { MiB, sendLargeFrame } from './attacks.js'
import { memoryOf, resetPeak } from '../helpers/proc.js'

/**
 * What the frame attacks may add to serve's peak resident memory. A frame is refused on its header
 * (tracker.max_ws_frame_bytes, 32 KiB), so what is left is a read buffer of 64 KiB per connection and
 * the garbage of a few requests; 20 MB is a fifth of one 90 MiB frame, so buffering any of them fails.
 */
const GROWTH_BOUND = 20 * 1024 * 1024

test('a 1 MiB WebSocket frame, and five of 90 MiB, on /announce are refused before they are buffered: the connections close and memory stays put', async (t) => {
  t.timeout(4 * 60_000)
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'one.bin': 100_000 })
  const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state') })
  const item = await serve.waitFor((line) => line.msg === 'published')
  const pid = serve.child.pid!
  const before = memoryOf(pid)
  t.true(resetPeak(pid), 'VmHWM can be reset to the RSS of now (clear_refs)')

  // The server sends 1009 ("message too big") and closes; as the attacker is still sending, the close
  // comes as a reset, which may overtake the close frame.
  const small = await sendLargeFrame('127.0.0.1', serve.httpPort, MiB)
  t.true(small.closedByServer, 'the 1 MiB frame closed the connection')
  t.true(small.closeCode === 1009 || small.closeCode === undefined, `close code ${String(small.closeCode)}`)
  const large = await Promise.all([serve.httpPort, serve.httpPort, serve.trackerPort, serve.trackerPort, serve.httpPort]
    .map(async (port) => await sendLargeFrame('127.0.0.1', port, 90 * MiB)))
  t.deepEqual(large.map((result) => result.closedByServer), Array(5).fill(true), 'every 90 MiB frame closed its connection')
  t.log(`payload sent before the server closed: ${[small, ...large].map((result) => `${(result.payloadSent / MiB).toFixed(1)} MiB`).join(', ')}`)

  const after = memoryOf(pid)
  t.log(`serve RSS ${(before.rssBytes / MiB).toFixed(1)} MiB before; peak during the attack ${(after.peakBytes / MiB).toFixed(1)} MiB`)
  t.true(after.peakBytes - before.rssBytes < GROWTH_BOUND, `peak RSS grew by ${((after.peakBytes - before.rssBytes) / MiB).toFixed(1)} MiB`)

  // An announce of the usual size is still answered.
  const answer = await webSocketExchange('127.0.0.1', serve.httpPort, '/announce', { action: 'announce', info_hash: Buffer.from(item.infohash!, 'hex').toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 0 })
  t.like(answer, { action: 'announce' })
  t.is(await serve.stop(), 0)
})
