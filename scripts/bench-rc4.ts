/**
 * `node dist/scripts/bench-rc4.js`: RC4 throughput over 16 KiB blocks, our loop (appliance/seeder/mse/rc4.ts,
 * in place) against OpenSSL's (`crypto.createCipheriv('rc4')`, a new buffer per block), which Node 20
 * with OpenSSL 3 offers only under `--openssl-legacy-provider` (run in a child process with that flag).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Rc4 } from '../appliance/seeder/mse/rc4.js'

const BLOCK = 16 * 1024
const BLOCKS = 16 * 1024
const MiB = 1024 * 1024

function ours (): number {
  const rc4 = new Rc4(randomBytes(20))
  const block = randomBytes(BLOCK)
  for (let i = 0; i < 256; i++) rc4.apply(block)
  const started = performance.now()
  for (let i = 0; i < BLOCKS; i++) rc4.apply(block)
  return BLOCK * BLOCKS / MiB / ((performance.now() - started) / 1000)
}

const OPENSSL = `
const crypto = require('node:crypto')
const cipher = crypto.createCipheriv('rc4', crypto.randomBytes(20), '')
const block = crypto.randomBytes(${BLOCK})
for (let i = 0; i < 256; i++) cipher.update(block)
const started = performance.now()
for (let i = 0; i < ${BLOCKS}; i++) cipher.update(block)
process.stdout.write(String(${BLOCK * BLOCKS / MiB} / ((performance.now() - started) / 1000)))
`

function openssl (flags: readonly string[]): number | string {
  try {
    return Number(execFileSync(process.execPath, [...flags, '-e', OPENSSL], { stdio: ['ignore', 'pipe', 'pipe'] }).toString())
  } catch {
    return 'unavailable'
  }
}

const rows: Array<[string, number | string]> = [
  ['our RC4 loop, in place', ours()],
  ['OpenSSL RC4, no flag', openssl([])],
  ['OpenSSL RC4, --openssl-legacy-provider', openssl(['--openssl-legacy-provider'])]
]
process.stdout.write(`| RC4 over ${BLOCK / 1024} KiB blocks (Node ${process.version}) | MiB/s |\n|---|---|\n`)
for (const [name, rate] of rows) process.stdout.write(`| ${name} | ${typeof rate === 'number' ? rate.toFixed(0) : rate} |\n`)
