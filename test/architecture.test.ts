import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import test from 'ava'
import { sourcePath } from './helpers/repo.js'

// docs/architecture.md states which room may import which; this reads that table and holds every
// import under appliance/ to it, so the document cannot drift from the code.

const ROOT = '(root)'
/** Any room may import them: the package version and the shape of the rooms' errors, leaves. */
const SHARED_LEAVES = new Set(['version.ts', 'coded-error.ts'])

type Rules = ReadonlyMap<string, ReadonlySet<string> | 'all'>

interface Import {
  readonly from: string
  readonly to: string
}

function rulesOf (markdown: string): Rules {
  const rows = markdown.split('\n').filter((line) => /^\| `[^`]+` \|/.test(line))
  return new Map(rows.map((row): [string, ReadonlySet<string> | 'all'] => {
    const cells = row.split('|').map((cell) => cell.trim())
    const room = cells[1]!.replaceAll('`', '')
    const allowed = cells[3]!
    if (allowed === 'every room') return [room, 'all']
    return [room, new Set([...allowed.matchAll(/`([^`]+)`/g)].map((match) => match[1]!))]
  }))
}

function sourceFiles (folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The room of a file under appliance/: its first folder, or `(root)` for a top-level module. */
function roomOf (applianceRelative: string): string {
  const parts = applianceRelative.split(sep)
  return parts.length === 1 ? ROOT : parts[0]!
}

function importsOf (appliance: string): Import[] {
  return sourceFiles(appliance).flatMap((file) => {
    const text = readFileSync(file, 'utf8')
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]!)
    return specifiers.map((specifier) => ({
      from: relative(appliance, file),
      to: relative(appliance, normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts'))))
    }))
  })
}

/** Every import that crosses a rule, as `from → to (room → room)`. */
function violations (imports: readonly Import[], rules: Rules): string[] {
  return imports.flatMap(({ from, to }) => {
    const source = roomOf(from)
    const target = roomOf(to)
    if (source === target || SHARED_LEAVES.has(to)) return []
    const allowed = rules.get(source)
    if (allowed === 'all' || allowed?.has(target) === true) return []
    return [`${from} → ${to} (${source} → ${target})`]
  })
}

const rules = rulesOf(readFileSync(sourcePath('docs/architecture.md'), 'utf8'))
const appliance = sourcePath('appliance')

test('docs/architecture.md has a rule for every room of appliance/, and no rule for a room that does not exist', (t) => {
  const rooms = readdirSync(appliance, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  t.deepEqual([...rules.keys()].filter((room) => room !== ROOT).sort(), rooms.sort())
})

test('every import under appliance/ follows the room rules of docs/architecture.md', (t) => {
  const imports = importsOf(appliance)
  t.true(imports.length > 100, 'the imports were found')
  t.deepEqual(violations(imports, rules), [])
})

test('an engine importing a view, siblings importing each other and a room importing the root are violations', (t) => {
  const crossing: Import[] = [
    { from: 'seeder/seeder.ts', to: 'web/status-page.ts' },
    { from: 'tracker/tracker.ts', to: 'seeder/seeder.ts' },
    { from: 'status/status-model.ts', to: 'library/publisher.ts' },
    { from: 'library/publisher.ts', to: 'service.ts' }
  ]
  t.is(violations(crossing, rules).length, crossing.length)
  t.deepEqual(violations([{ from: 'web/web-seed.ts', to: 'catalog/catalog.ts' }, { from: 'seeder/seeder.ts', to: 'version.ts' }], rules), [])
})
