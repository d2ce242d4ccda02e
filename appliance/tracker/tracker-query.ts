/**
 * The query string of a tracker request, as bytes: BEP 3 puts the raw 20-byte info_hash and peer_id
 * in it, percent-encoded byte by byte, so the values are not text. Repeated keys (a scrape of several
 * infohashes) keep every value, in order.
 */
export function parseTrackerQuery (url: string): Map<string, Buffer[]> {
  const query = new Map<string, Buffer[]>()
  const start = url.indexOf('?')
  if (start === -1) return query
  for (let from = start + 1; from <= url.length;) {
    const ampersand = url.indexOf('&', from)
    const end = ampersand === -1 ? url.length : ampersand
    if (end > from) {
      const equals = url.indexOf('=', from)
      const keyEnd = equals === -1 || equals > end ? end : equals
      const rawKey = url.slice(from, keyEnd)
      const key = rawKey.includes('%') ? percentDecode(rawKey).toString('latin1') : rawKey
      const value = percentDecode(keyEnd === end ? '' : url.slice(keyEnd + 1, end))
      const values = query.get(key)
      if (values === undefined) query.set(key, [value])
      else values.push(value)
    }
    from = end + 1
  }
  return query
}

/** Only `%XX` is decoded; `+` stays `+`, as BitTorrent clients percent-encode every byte that matters. */
function percentDecode (text: string): Buffer {
  if (!text.includes('%')) return Buffer.from(text, 'latin1')
  const out = Buffer.allocUnsafe(text.length)
  let length = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    const high = code === 37 ? hexValue(text.charCodeAt(index + 1)) : -1
    const low = high === -1 ? -1 : hexValue(text.charCodeAt(index + 2))
    if (low === -1) {
      out[length++] = code & 0xff
    } else {
      out[length++] = high * 16 + low
      index += 2
    }
  }
  return out.subarray(0, length)
}

/** 0-15 for a hex digit's char code, -1 for anything else (NaN past the end included). */
function hexValue (code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 65 && code <= 70) return code - 55
  if (code >= 97 && code <= 102) return code - 87
  return -1
}
