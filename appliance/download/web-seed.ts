import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Metainfo } from '../metainfo/metainfo.js'
import { fileRangesFor } from '../seeder/file-ranges.js'
import type { ContentLayout } from './content-layout.js'

/**
 * BEP 19 (GetRight-style) web seed: the URL of a single-file torrent's file (a URL ending in `/`
 * gets the name added), or the folder holding a multi-file torrent's name folder. Each piece is
 * fetched with one HTTP range request per file it spans; an answer must be exactly the range asked
 * (206 with that length, or 200 of a whole file that is the range), nothing longer is read.
 */
export class WebSeed {
  constructor (readonly url: string, private readonly metainfo: Metainfo, private readonly layout: ContentLayout, private readonly timeoutMs: number) {}

  /** Fetches piece `index`, handing its bytes on in order (`write` of where they go in the piece). */
  async fetchPiece (index: number, length: number, write: (pieceOffset: number, bytes: Buffer) => Promise<void>, signal: AbortSignal): Promise<void> {
    for (const range of fileRangesFor(this.layout, index * this.metainfo.pieceLength, length)) {
      const file = this.layout.files[range.fileIndex]!
      if (file.pad) continue
      await this.fetchRange(this.fileUrl(range.fileIndex), range.fileOffset, range.length, file.length, async (at, bytes) => await write(range.spanOffset + at, bytes), signal)
    }
  }

  private fileUrl (index: number): URL {
    const segments = this.layout.files[index]!.segments
    const encoded = segments.map((segment) => encodeURIComponent(segment)).join('/')
    if (!this.metainfo.isMultiFile) return new URL(this.url.endsWith('/') ? `${this.url}${encoded}` : this.url)
    return new URL(`${this.url.endsWith('/') ? this.url : `${this.url}/`}${encoded}`)
  }

  private async fetchRange (url: URL, offset: number, length: number, fileLength: number, write: (at: number, bytes: Buffer) => Promise<void>, signal: AbortSignal): Promise<void> {
    const response = await this.get(url, offset, length, signal)
    const whole = response.statusCode === 200 && offset === 0 && length === fileLength
    const declared = Number(response.headers['content-length'])
    if ((response.statusCode !== 206 && !whole) || (Number.isFinite(declared) && declared !== length)) {
      response.destroy()
      throw new Error(`${url.href} answered ${response.statusCode ?? '?'} with ${String(response.headers['content-length'])} bytes for ${length} bytes at ${offset}`)
    }
    let received = 0
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (received + chunk.length > length) throw new Error(`${url.href} sent more than the ${length} bytes asked for`)
        await write(received, chunk)
        received += chunk.length
      }
    } finally {
      response.destroy()
    }
    if (received !== length) throw new Error(`${url.href} sent ${received} of ${length} bytes`)
  }

  private async get (url: URL, offset: number, length: number, signal: AbortSignal): Promise<IncomingMessage> {
    const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined
    if (request === undefined) throw new Error(`${url.href}: web seeds must be http or https`)
    return await new Promise((resolve, reject) => {
      const outgoing = request(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` }, signal, timeout: this.timeoutMs, agent: false }, resolve)
      outgoing.once('timeout', () => outgoing.destroy(new Error(`${url.href} did not answer in time`)))
      outgoing.once('error', reject)
      outgoing.end()
    })
  }
}
