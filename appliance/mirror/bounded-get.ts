import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { MirrorError } from './mirror-errors.js'

export interface BoundedGetOptions {
  readonly maxBytes: number
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/**
 * One HTTP(S) GET of a followed box's feed, .torrent or tracker: the body, refused beyond `maxBytes`
 * or `timeoutMs` (the whole exchange), and on any status but 200. No redirect is followed.
 */
export async function boundedGet (url: string, options: BoundedGetOptions): Promise<Buffer> {
  const parsed = new URL(url)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new MirrorError('ET_MIRROR_REFUSED', `${url}: not an http:// or https:// URL`)
  const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal === undefined ? [] : [options.signal])]
  const signal = AbortSignal.any(signals)
  return await new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      if (error instanceof MirrorError) reject(error)
      else if (signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError') reject(new MirrorError('ET_MIRROR_TOO_LARGE', `${parsed.origin}${parsed.pathname}: no whole answer within ${options.timeoutMs} ms`))
      else reject(new MirrorError('ET_MIRROR_UNREACHABLE', `${parsed.origin}${parsed.pathname}: ${error.message}`, { cause: error }))
    }
    const outgoing = request(parsed, { method: 'GET', signal, agent: false, headers: { 'user-agent': 'evertorrent-mirror' } }, (response) => {
      if (response.statusCode !== 200) {
        response.destroy()
        fail(new MirrorError('ET_MIRROR_UNREACHABLE', `${parsed.origin}${parsed.pathname} answered HTTP ${response.statusCode ?? '?'}`))
        return
      }
      const declared = Number(response.headers['content-length'])
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.destroy()
        fail(new MirrorError('ET_MIRROR_TOO_LARGE', `${parsed.origin}${parsed.pathname} is ${declared} bytes, more than ${options.maxBytes}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) {
          response.destroy(new MirrorError('ET_MIRROR_TOO_LARGE', `${parsed.origin}${parsed.pathname} answered more than ${options.maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      response.on('error', fail)
      response.on('end', () => { resolve(Buffer.concat(chunks)) })
    })
    outgoing.on('error', fail)
    outgoing.end()
  })
}
