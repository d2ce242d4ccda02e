import test from 'ava'
import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { openFrontDoor } from '../../appliance/front-door.js'
import { withOverrides } from '../../appliance/config/settings.js'
import { logfmtLogger } from '../../appliance/platform/logger.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { repoRoot } from '../helpers/repo.js'
import { httpGet } from '../web/http-client.js'

/** What a module imports statically (`import … from`), compiled: type-only imports are gone, `import()` is left out. */
function staticImportsOf (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?\sfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)].map((match) => (match[1] ?? match[2])!)
}

/** Every module and package a module loads before its own code runs: its static import graph. */
function loadedBefore (entry: string): { modules: Set<string>, packages: Set<string> } {
  const modules = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (modules.has(file)) return
    modules.add(file)
    for (const specifier of staticImportsOf(file)) {
      if (specifier.startsWith('node:')) continue
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier))
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!)
    }
  }
  visit(entry)
  return { modules, packages }
}

test('serve listens for the page before it loads the engines: the CLI and serve-command load no engine and no package but the TOML parser', (t) => {
  const dist = join(repoRoot, 'dist', 'appliance')
  const { modules, packages } = loadedBefore(join(dist, 'cli.js'))
  const serve = loadedBefore(join(dist, 'cli', 'serve-command.js'))
  const all = [...modules, ...serve.modules].map((file) => relative(dist, file))
  const engines = all.filter((file) => /^(tracker|seeder|dht|library|metainfo|catalog|network|hardware)\//.test(file) || file === 'service.js' || file === 'web/status-page.js')
  t.deepEqual(engines, [], 'modules loaded before the page listens')
  t.deepEqual([...packages, ...serve.packages].filter((name) => name !== 'smol-toml'), [], 'packages loaded before the page listens')
  t.true(all.includes('front-door.js'))
})

test('the front door serves the page at once and holds the API until the service mounts it', async (t) => {
  const settings = withOverrides(DEFAULTS, { 'http.port': 0, 'network.listen_host': '127.0.0.1' }, 'test')
  const lines: string[] = []
  const door = await openFrontDoor(settings, logfmtLogger((line) => lines.push(line)))
  t.teardown(async () => { await door.http.close() })
  const port = door.http.port
  const page = await httpGet('127.0.0.1', port, '/')
  t.is(page.status, 200)
  t.regex(page.body.toString(), /<html/i)
  t.truthy(page.headers['content-security-policy'])
  for (const asset of ['/assets/status-page.js', '/assets/status-page.css', '/favicon.svg']) {
    t.is((await httpGet('127.0.0.1', port, asset)).status, 200, asset)
  }
  let answered = false
  const api = httpGet('127.0.0.1', port, '/api/status').then((result) => { answered = true; return result })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.false(answered, '/api/status answered before the service mounted it')
  door.http.route(['GET'], '/api/status', (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"mounted":true}') })
  door.http.mounted()
  const result = await api
  t.is(result.status, 200)
  t.is(result.body.toString(), '{"mounted":true}')
  t.is((await httpGet('127.0.0.1', port, '/nothing-here')).status, 404)
  t.deepEqual(lines, [])
})
