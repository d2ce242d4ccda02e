import test from 'ava'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { Qbittorrent } from './clients/qbittorrent.js'
import { sha256Tree } from './clients/sha256-tree.js'

// qbittorrent-nox 4.5 subscribes to the box's /feed.xml with an RSS auto-download rule, as a user
// would in its RSS tab, and downloads what the box publishes: an item published before it subscribed,
// and one published afterwards (the feed must show it as new: qBittorrent skips a feed whose
// lastBuildDate it has already seen).

const FEED_NAME = 'evertorrent box'
const RULE = 'everything the box publishes'
const TIMEOUT_MS = 240_000

const published = (name: string) => (line: LogLine): boolean => line.msg === 'published' && line.name === name

test('qBittorrent\'s RSS auto-downloader completes items from the box\'s feed, before and after it subscribed', async (t) => {
  t.timeout(TIMEOUT_MS + 60_000)
  const deadline = Date.now() + TIMEOUT_MS
  const root = tempDir(t, 'evertorrent-qbittorrent-rss-')
  const library = join(root, 'library')
  const saveDir = join(root, 'downloads')
  writeTree(library, { 'feed-item-one/a.bin': 2 * 1024 * 1024 + 11, 'feed-item-one/sub/b.txt': 'second file\n', 'not-for-the-rule.bin': 5000 })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'library.rescan_interval': 1 } })
  const first = await serve.waitFor(published('feed-item-one'))
  await serve.waitFor(published('not-for-the-rule.bin'))
  const feedUrl = `http://127.0.0.1:${serve.httpPort}/feed.xml`

  const qbittorrent = await Qbittorrent.start(deadline)
  t.teardown(async () => { await qbittorrent.stop() })
  try {
    await qbittorrent.call('app/setPreferences', new URLSearchParams({
      json: JSON.stringify({ rss_processing_enabled: true, rss_auto_downloading_enabled: true, rss_refresh_interval: 1 })
    }))
    await qbittorrent.call('rss/setRule', new URLSearchParams({
      ruleName: RULE,
      ruleDef: JSON.stringify({ enabled: true, mustContain: 'feed-item', affectedFeeds: [feedUrl], savePath: saveDir, addPaused: false })
    }))
    await qbittorrent.call('rss/addFeed', new URLSearchParams({ url: feedUrl, path: FEED_NAME }))
    const one = await qbittorrent.waitForComplete(deadline, first.infohash)
    t.is(one.name, 'feed-item-one')

    writeTree(library, { 'feed-item-two.bin': 1024 * 1024 + 5 })
    const second = await serve.waitFor(published('feed-item-two.bin'))
    // Its own refresh comes once a minute at the soonest; the Web UI's "update" button asks now.
    await qbittorrent.call('rss/refreshItem', new URLSearchParams({ itemPath: FEED_NAME }))
    await qbittorrent.waitForComplete(deadline, second.infohash)
    t.deepEqual((await qbittorrent.torrents()).map((torrent) => torrent.hash).sort(), [first.infohash, second.infohash].sort(), 'the item the rule does not match was not downloaded')
    await qbittorrent.shutdown(deadline)
  } catch (error) {
    throw await qbittorrent.withLog(error)
  }
  const downloaded = await sha256Tree(saveDir)
  const { 'not-for-the-rule.bin': _, ...wanted } = await sha256Tree(library)
  t.deepEqual(downloaded, wanted)
})
