import type { IncomingHttpHeaders } from 'node:http'

/**
 * True when a conditional GET or HEAD may be answered 304 (RFC 9110 §13.1): `If-None-Match` names the
 * entity tag (weak comparison, any in a list, or `*`); without it, `If-Modified-Since` is not before
 * `lastModified` (ms; HTTP dates have whole seconds).
 */
export function isNotModified (headers: IncomingHttpHeaders, etag: string, lastModified: number): boolean {
  const ifNoneMatch = headers['if-none-match']
  if (ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((tag) => tag.trim())
    return tags.includes('*') || tags.some((tag) => opaque(tag) === opaque(etag))
  }
  const since = Date.parse(headers['if-modified-since'] ?? '')
  return !Number.isNaN(since) && Math.floor(lastModified / 1000) * 1000 <= since
}

function opaque (tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}
