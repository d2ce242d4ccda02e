import { randomBytes } from 'node:crypto'
import { VERSION } from '../version.js'

/**
 * A BEP 20 (Azureus-style) peer id: `-ET` and four version digits, then random bytes, e.g.
 * `-ET0100-` for 0.1.0. A fresh one per process.
 */
export function makePeerId (version = VERSION): Buffer {
  const digits = version.split(/[.-]/).slice(0, 3).map((part) => (Number.parseInt(part, 10) || 0) % 10).join('')
  return Buffer.concat([Buffer.from(`-ET${digits.padEnd(4, '0')}-`, 'latin1'), randomBytes(12)])
}
