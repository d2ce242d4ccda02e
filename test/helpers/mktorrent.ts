import { runOk } from './run.js'

export interface MktorrentOptions {
  /** mktorrent's `-l`: the piece length is 2 ** this, 15..28 in mktorrent 1.1. */
  readonly pieceLengthExponent: number
  readonly announce?: readonly string[]
  readonly webSeeds?: readonly string[]
  readonly private?: boolean
  readonly source?: string
  readonly name?: string
}

/** Makes `output` from `target` with mktorrent 1.1 (no creation date, one hashing thread). */
export async function mktorrent (target: string, output: string, options: MktorrentOptions): Promise<void> {
  const args = [
    '-d', '-t', '1',
    '-l', String(options.pieceLengthExponent),
    '-o', output,
    ...(options.announce ?? []).flatMap((url) => ['-a', url]),
    ...(options.webSeeds ?? []).flatMap((url) => ['-w', url]),
    ...(options.private === true ? ['-p'] : []),
    ...(options.source !== undefined ? ['-s', options.source] : []),
    ...(options.name !== undefined ? ['-n', options.name] : []),
    target
  ]
  await runOk('mktorrent', args, { timeoutMs: 60_000 })
}
