import test from 'ava'
import { renderConfigFile } from '../../appliance/config/config-file.js'
import { ConfigError, defaultSettings, settingsFromToml, withOverrides, type SettingsEnvironment } from '../../appliance/config/settings.js'

const env: SettingsEnvironment = { home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' }
const KEY = 'a'.repeat(64)

function refused (t: import('ava').ExecutionContext, toml: string): string {
  const error = t.throws(() => settingsFromToml(toml, 'config.toml', env), { instanceOf: ConfigError })
  t.is(error.code, 'ET_CONFIG')
  t.is(error.key, 'mirror')
  return error.message
}

test('[[mirror]] tables follow a box by public key or by feed, each in a folder of its own, with defaults for the bounds', (t) => {
  const settings = settingsFromToml([
    '[http]', 'port = 8080',
    '[[mirror]]', `public_key = "${KEY}"`, 'folder = "/media/usb/friend/"', 'max_bytes = 500_000_000_000', 'keep_days = 7', 'poll_seconds = 30',
    '[[mirror]]', 'feed = "http://office.local/feed.json"', 'folder = "/srv/office"'
  ].join('\n'), 'config.toml', env)
  t.deepEqual(settings.mirror, [
    { publicKey: KEY, folder: '/media/usb/friend', maxBytes: 500_000_000_000, keepDays: 7, pollSeconds: 30 },
    { feed: 'http://office.local/feed.json', folder: '/srv/office', maxBytes: 0, keepDays: 30, pollSeconds: 600 }
  ])
  t.is(settings['http.port'], 8080)
  t.deepEqual(defaultSettings(env).mirror, [])
})

test('a [[mirror]] table names exactly one box, by a well-formed key or an http(s) URL', (t) => {
  t.regex(refused(t, '[[mirror]]\nfolder = "/srv/m"\n'), /\[\[mirror\]\] number 1: give the followed box either public_key or feed/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfeed = "http://a/feed.json"\nfolder = "/srv/m"\n`), /either public_key or feed, one of them/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY.toUpperCase()}"\nfolder = "/srv/m"\n`), /public_key must be 64 lower-case hex digits/)
  t.regex(refused(t, '[[mirror]]\npublic_key = "abc"\nfolder = "/srv/m"\n'), /public_key must be 64/)
  t.regex(refused(t, '[[mirror]]\nfeed = "file:///etc/passwd"\nfolder = "/srv/m"\n'), /feed must be an http:\/\/ or https:\/\/ URL/)
  t.regex(refused(t, '[[mirror]]\nfeed = "not a url"\nfolder = "/srv/m"\n'), /feed must be/)
})

test('a [[mirror]] table is checked key by key: folder absolute, bounds whole numbers in range, no unknown key', (t) => {
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "mirror"\n`), /folder must be an absolute path/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\n`), /folder must be an absolute path, not undefined/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\nmax_bytes = -1\n`), /max_bytes must be a whole number from 0/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\nkeep_days = 1.5\n`), /keep_days must be a whole number/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\npoll_seconds = 9\n`), /poll_seconds must be a whole number from 10/)
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\nquota = 5\n`), /unknown key "quota"/)
  t.regex(refused(t, 'mirror = 5\n'), /must be \[\[mirror\]\] tables/)
  t.regex(refused(t, 'mirror = [5]\n'), /number 1: must be a table/)
})

test('mirrors may not share a folder, nor use a library folder, the media root or the state directory', (t) => {
  t.regex(refused(t, `[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\n[[mirror]]\nfeed = "http://b/feed.json"\nfolder = "/srv/m/b"\n`), /number 1: its folder \/srv\/m and that of number 2 \(\/srv\/m\/b\) overlap/)
  t.regex(refused(t, `[library]\nfolders = ["/srv/library"]\n[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/library/m"\n`), /overlaps the library folder \/srv\/library/)
  t.regex(refused(t, `[library]\nmedia_root = "/media/evertorrent"\n[[mirror]]\npublic_key = "${KEY}"\nfolder = "/media"\n`), /overlaps the media root/)
  t.regex(refused(t, `[state]\ndir = "/var/lib/evertorrent"\n[[mirror]]\npublic_key = "${KEY}"\nfolder = "/var/lib/evertorrent/m"\n`), /overlaps the state directory/)
  // A library folder given on the command line is checked too.
  const settings = settingsFromToml(`[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/m"\n`, 'config.toml', env)
  t.throws(() => withOverrides(settings, { 'library.folders': ['/srv'] }, 'the command line'), { instanceOf: ConfigError, message: /the command line: \[\[mirror\]\] number 1: its folder \/srv\/m overlaps the library folder \/srv/ })
  // Side by side is fine.
  t.notThrows(() => settingsFromToml(`[library]\nfolders = ["/srv/lib"]\n[[mirror]]\npublic_key = "${KEY}"\nfolder = "/srv/library-mirror"\n`, 'config.toml', env))
})

test('more than 16 mirrors are refused', (t) => {
  const tables = Array.from({ length: 17 }, (_, index) => `[[mirror]]\nfeed = "http://box${index}/feed.json"\nfolder = "/srv/m${index}"\n`).join('')
  t.regex(refused(t, tables), /holds 17 \[\[mirror\]\] tables; at most 16/)
})

test('the documented config file shows a commented-out [[mirror]] example that reads back once uncommented', (t) => {
  const text = renderConfigFile(env)
  const example = text.slice(text.indexOf('# [[mirror]]')).split('\n').filter((line) => line.startsWith('# ')).map((line) => line.slice(2)).join('\n')
  t.true(example.startsWith('[[mirror]]'))
  const settings = settingsFromToml(example, 'config.toml', env)
  t.is(settings.mirror.length, 1)
  t.is(settings.mirror[0]!.keepDays, 30)
  t.is(settings.mirror[0]!.pollSeconds, 600)
})
