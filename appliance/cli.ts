#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'
import { UsageError } from './cli/usage-error.js'
import { VERSION } from './version.js'

const USAGE = `Usage: evertorrent <command> [options]

evertorrent publishes files over BitTorrent: it makes the .torrent, tracks the swarm and seeds forever.

Commands:
  serve                     publish the library folders: tracker, everseed and web seeds
  create <file-or-folder>   make a .torrent
  print-config              print the documented config file with every default
  check-config FILE         check a config file

Run evertorrent <command> --help for a command's options.

Options:
  -h, --help                this help
  -v, --version             print the version`

type Command = (args: string[], stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream) => Promise<void>

// Loaded on use: `create` should not pay for loading the tracker, seeder and web server.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./cli/serve-command.js')).runServe,
  create: async () => {
    // `create` spends its time in OpenSSL's SHA-1, not in JavaScript: V8's optimizing compilers would
    // only add their code and data to its memory (measured: 67 → 62.5 MB peak RSS hashing 2 GiB on 2
    // threads). The baseline compiler stays: without it, listing 50,000 files took 15–20 % longer.
    setFlagsFromString('--max-opt=1')
    // Listing 100,000 files keeps allocating small objects, and V8 doubles the young generation each
    // time enough of them survived since it last grew, up to 2 × 16 MB: kept at its start size, the
    // peak RSS of 100,000 files went from 107 to 83 MB after the listing. Read on every growth, so
    // it takes effect set here (the size flags are read once, at start).
    setFlagsFromString('--semi-space-growth-factor=1')
    return (await import('./cli/create-command.js')).runCreate
  },
  'print-config': async () => (await import('./cli/config-commands.js')).runPrintConfig,
  'check-config': async () => (await import('./cli/config-commands.js')).runCheckConfig
}

async function main (argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return name === undefined ? 2 : 0
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    process.stderr.write(`evertorrent: unknown command "${name}"\n\n${USAGE}\n`)
    return 2
  }
  try {
    await (await command())(args, process.stdout, process.stderr)
    return 0
  } catch (error) {
    return report(error)
  }
}

function report (error: unknown): number {
  const code = (error as { code?: unknown }).code
  // One line, as the CLI promises: some messages (parseArgs hints) span several.
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
  if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`evertorrent: ${message}\n`)
    return 2
  }
  process.stderr.write(`evertorrent: error: ${message}\n`)
  return 1
}

process.exitCode = await main(process.argv.slice(2))
