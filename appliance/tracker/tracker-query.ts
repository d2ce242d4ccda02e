/**
 * The query string of a tracker request, as bytes: BEP 3 puts the raw 20-byte info_hash and peer_id
 * in it, percent-encoded byte by byte, so the values are not text. Repeated keys (a scrape of several
 * infohashes) keep every value, in order.
 */
export function parseTrackerQuery (url: string): Map<string, Buffer[]> {
  const query = new Map<string, Buffer[]>()
  const start = url.indexOf('?')
  if (start === -1) return query
  for (const pair of url.slice(start + 1).split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const key = percentDecode(equals === -1 ? pair : pair.slice(0, equals)).toString('latin1')
    const value = percentDecode(equals === -1 ? '' : pair.slice(equals + 1))
    const values = query.get(key)
    if (values === undefined) query.set(key, [value])
    else values.push(value)
  }
  return query
}

/** Only `%XX` is decoded; `+` stays `+`, as BitTorrent clients percent-encode every byte that matters. */
function percentDecode (text: string): Buffer {
  const bytes: number[] = []
  for (let index = 0; index < text.length; index++) {
    const hex = text[index] === '%' ? text.slice(index + 1, index + 3) : ''
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      index += 2
    } else {
      bytes.push(text.charCodeAt(index) & 0xff)
    }
  }
  return Buffer.from(bytes)
}
