/** MSE discards the first 1024 bytes of each RC4 keystream (the weak start of it). */
const DISCARDED_BYTES = 1024

/**
 * RC4, as MSE/PE uses it for one direction of a connection. Our own loop rather than OpenSSL's: Node
 * 20 with OpenSSL 3 has RC4 only behind `--openssl-legacy-provider` (for the whole process), and
 * OpenSSL returns every block as a new off-heap buffer, outside the block pool, where this loop
 * ciphers the pool's block in place. Both run at ~300–500 MiB/s on the x86-64 test machine
 * (scripts/bench-rc4.ts), far above what a Pi's uplink carries.
 */
export class Rc4 {
  private readonly state = new Uint8Array(256)
  private i = 0
  private j = 0

  constructor (key: Uint8Array) {
    const s = this.state
    for (let n = 0; n < 256; n++) s[n] = n
    let j = 0
    for (let n = 0; n < 256; n++) {
      j = (j + s[n]! + key[n % key.length]!) & 0xff
      const swap = s[n]!
      s[n] = s[j]!
      s[j] = swap
    }
    this.apply(new Uint8Array(DISCARDED_BYTES))
  }

  /** Ciphers (or deciphers) `data` in place, continuing the keystream; returns `data`. */
  apply<T extends Uint8Array> (data: T): T {
    const s = this.state
    let i = this.i
    let j = this.j
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff
      const si = s[i]!
      j = (j + si) & 0xff
      const sj = s[j]!
      s[i] = sj
      s[j] = si
      data[n] ^= s[(si + sj) & 0xff]!
    }
    this.i = i
    this.j = j
    return data
  }
}
