#!/usr/bin/env node
import { runCreate, CREATE_USAGE } from './cli/create-command.js'
import { UsageError } from './cli/usage-error.js'
import { VERSION } from './version.js'

const USAGE = `Usage: evertorrent <command> [options]

evertorrent publishes files over BitTorrent: it makes the .torrent, tracks the swarm and seeds forever.

Commands:
  create <file-or-folder>   make a .torrent (evertorrent create --help for its options)

Options:
  -h, --help                this help
  -v, --version             print the version`

type Command = (args: string[], stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream) => Promise<void>

const COMMANDS: Record<string, { run: Command, usage: string }> = {
  create: { run: runCreate, usage: CREATE_USAGE }
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
    await command.run(args, process.stdout, process.stderr)
    return 0
  } catch (error) {
    return report(error)
  }
}

function report (error: unknown): number {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`evertorrent: ${message}\n`)
    return 2
  }
  process.stderr.write(`evertorrent: error: ${message}\n`)
  return 1
}

process.exitCode = await main(process.argv.slice(2))
