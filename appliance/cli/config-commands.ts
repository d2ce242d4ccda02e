import { renderConfigFile } from '../config/config-file.js'
import { defaultEnvironment, loadSettings } from '../config/settings.js'
import { UsageError } from './usage-error.js'

export const PRINT_CONFIG_USAGE = `Usage: evertorrent print-config

Prints the documented config file: every key with its default, ready to edit.`

export const CHECK_CONFIG_USAGE = `Usage: evertorrent check-config FILE

Checks a config file without starting anything; prints "FILE: ok" or the precise problem.`

export async function runPrintConfig (args: string[], stdout: NodeJS.WriteStream): Promise<void> {
  if (args.length > 0 && args[0] !== '--help' && args[0] !== '-h') throw new UsageError('print-config takes no arguments')
  stdout.write(args.length > 0 ? `${PRINT_CONFIG_USAGE}\n` : renderConfigFile(defaultEnvironment()))
}

export async function runCheckConfig (args: string[], stdout: NodeJS.WriteStream): Promise<void> {
  if (args[0] === '--help' || args[0] === '-h') {
    stdout.write(`${CHECK_CONFIG_USAGE}\n`)
    return
  }
  if (args.length !== 1) throw new UsageError('check-config takes exactly one FILE')
  await loadSettings(args[0])
  stdout.write(`${args[0]}: ok\n`)
}
