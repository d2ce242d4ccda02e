import { EventEmitter } from 'node:events'
import { open } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Catalog, PublishedFile } from '../catalog/catalog.js'
import { howFileChanged, type FileStats } from '../metainfo/file-change.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { answerRange } from './byte-range.js'
import { WebError } from './errors.js'
import { sendStatus, type RouteMatch } from './http-server.js'
import { findWebSeedFile, parseWebSeedPath } from './web-seed-path.js'

/** A published file opened for serving; `fs.promises.FileHandle` is one. */
export interface WebSeedFile {
  stat (): Promise<FileStats>
  createReadStream (options: { start: number, end: number, highWaterMark: number, autoClose: false }): Readable
  close (): Promise<void>
}

export interface WebSeedOptions {
  readonly catalog: Catalog
  /** Default: `fs.promises.open(path, 'r')`. */
  readonly openFile?: (path: string) => Promise<WebSeedFile>
}

export interface ServedEvent {
  readonly infoHash: InfoHash
  readonly fileIndex: number
  /** Bytes handed to the connection for one response, complete or cut short. */
  readonly bytes: number
}

export interface FileErrorEvent {
  readonly infoHash: InfoHash
  readonly fileIndex: number
  /** `ET_FILE_CHANGED`, `ET_FILE_MISSING` or `ET_READ`. */
  readonly error: WebError
}

export interface WebSeedEvents {
  served: [event: ServedEvent]
  /** A published file cannot be served as hashed; the request got a 404/503 or was cut. */
  fileError: [event: FileErrorEvent]
  /**
   * The process ran short of something (`ET_RESOURCE`: descriptors, memory) opening or reading a file;
   * the request got a 503 with Retry-After or was cut. Says nothing about the file: never a reason to
   * republish.
   */
  warning: [error: WebError]
}

/** The most file bytes buffered per response. */
const READ_CHUNK = 64 * 1024
/** What a client is told to wait after a 503 for want of descriptors or memory. */
const RETRY_AFTER_SECONDS = 10
/** Errors that say the process is short of something for now, not that the file changed or vanished. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN'])

/**
 * The url-list entry (BEP 19) of a torrent served by the web seed at `baseUrl`
 * (`http://host:port`). It ends in `/`, so clients append the torrent's name (and, for a multi-file
 * torrent, the file's path). It holds the infohash, so it is set on the metainfo after hashing; the
 * url-list is outside the info dictionary and does not change the infohash.
 */
export function webSeedUrl (baseUrl: string, infoHash: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/webseed/${infoHash}/`
}

/**
 * BEP 19 web seed: serves the Catalog's files over HTTP at `/webseed/<infohash>/<name>[/<path...>]`,
 * with GET, HEAD and single byte ranges. A request names a file only by exact match against the
 * torrent's file list. Each response opens the file, checks that it is the one hashed
 * (`howFileChanged`: a changed file is never served), and streams from that same handle in bounded chunks; a
 * read error midway (a drive pulled) cuts that response and nothing else.
 */
export class WebSeed extends EventEmitter<WebSeedEvents> {
  private readonly catalog: Catalog
  private readonly openFile: (path: string) => Promise<WebSeedFile>
  private readonly served = new Map<string, number>()

  constructor (options: WebSeedOptions) {
    super()
    this.catalog = options.catalog
    this.openFile = options.openFile ?? (async (path) => await open(path, 'r'))
  }

  /** Bytes served for `infoHash` since start, over every file and response. */
  bytesServed (infoHash: string): number {
    return this.served.get(infoHash) ?? 0
  }

  /** Route handler for `GET` and `HEAD` on `/webseed/*`. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse, match: RouteMatch): Promise<void> => {
    const target = parseWebSeedPath(match.rest)
    if ('status' in target) {
      sendStatus(res, target.status)
      return
    }
    const torrent = this.catalog.get(target.infoHash)
    const fileIndex = torrent === undefined ? undefined : findWebSeedFile(torrent, target.segments)
    if (torrent === undefined || fileIndex === undefined) {
      sendStatus(res, 404)
      return
    }
    const { infoHash } = torrent.metainfo
    const published = torrent.files.at(fileIndex)!
    const report = (error: WebError): void => {
      if (error.code === 'ET_RESOURCE') this.emit('warning', error)
      else this.emit('fileError', { infoHash, fileIndex, error })
    }
    let file: WebSeedFile
    try {
      file = await this.openFile(published.absolutePath)
    } catch (error) {
      const problem = fileProblem(error, published.absolutePath)
      report(problem)
      sendUnavailable(res, problem)
      return
    }
    try {
      const bytes = await this.serve(req, res, file, published, report)
      if (bytes > 0) {
        this.served.set(infoHash, this.bytesServed(infoHash) + bytes)
        this.emit('served', { infoHash, fileIndex, bytes })
      }
    } finally {
      // Closing a handle on a vanished drive can fail too; the descriptor is released all the same.
      await file.close().catch(() => {})
    }
  }

  /** Answers from an open file; returns the body bytes handed to the connection. */
  private async serve (req: IncomingMessage, res: ServerResponse, file: WebSeedFile, published: PublishedFile, report: (error: WebError) => void): Promise<number> {
    let stat
    try {
      stat = await file.stat()
    } catch (error) {
      const problem = fileProblem(error, published.absolutePath)
      report(problem)
      sendUnavailable(res, problem)
      return 0
    }
    const change = howFileChanged(published, stat)
    if (change !== undefined) {
      report(new WebError('ET_FILE_CHANGED', `${published.absolutePath} changed after it was hashed: ${change}; it is not served until republished`, { path: published.absolutePath }))
      sendStatus(res, 503)
      return 0
    }
    const size = published.size
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'Last-Modified': new Date(published.mtimeMs).toUTCString()
    }
    const range = answerRange(req.headers.range, size)
    if (range.kind === 'unsatisfiable') {
      sendStatus(res, 416, { ...headers, 'Content-Range': `bytes */${size}` })
      return 0
    }
    const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1]
    const length = end - start + 1
    res.writeHead(range.kind === 'partial' ? 206 : 200, {
      ...headers,
      'Content-Length': length,
      ...(range.kind === 'partial' && { 'Content-Range': `bytes ${start}-${end}/${size}` })
    })
    if (req.method === 'HEAD' || length === 0) {
      res.end()
      return 0
    }
    return await this.stream(res, file, { start, end, length }, published, report)
  }

  private async stream (
    res: ServerResponse,
    file: WebSeedFile,
    range: { start: number, end: number, length: number },
    published: PublishedFile,
    report: (error: WebError) => void
  ): Promise<number> {
    const source = file.createReadStream({ start: range.start, end: range.end, highWaterMark: READ_CHUNK, autoClose: false })
    let readError: unknown
    source.once('error', (error) => { readError = error })
    const counter = new ByteCounter()
    try {
      await pipeline(source, counter, res, { end: false })
    } catch {
      // Either the file failed (reported) or the client went away (nothing to report).
      if (readError !== undefined) report(fileProblem(readError, published.absolutePath))
      res.destroy()
      return counter.bytes
    }
    if (counter.bytes !== range.length) {
      // The file shrank while being read: the client must not take a short body for the whole.
      report(new WebError('ET_FILE_CHANGED', `${published.absolutePath} came up short while being served (${counter.bytes} of ${range.length} bytes); it changed since it was hashed`, { path: published.absolutePath }))
      res.destroy()
      return counter.bytes
    }
    res.end()
    return counter.bytes
  }
}

/** Passes chunks through untouched, counting their bytes. */
class ByteCounter extends Transform {
  bytes = 0

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    callback(null, chunk)
  }
}

/** 404 for a file that is gone, 503 otherwise; a transient shortage says when to come back. */
function sendUnavailable (res: ServerResponse, problem: WebError): void {
  if (problem.code === 'ET_FILE_MISSING') sendStatus(res, 404)
  else sendStatus(res, 503, problem.code === 'ET_RESOURCE' ? { 'Retry-After': RETRY_AFTER_SECONDS } : {})
}

function fileProblem (error: unknown, path: string): WebError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const detail = error instanceof Error ? error.message : String(error)
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    return new WebError('ET_RESOURCE', `cannot serve ${path} for now (${code}: the box is short of file descriptors or memory); the client is asked to retry`, { path, cause: error })
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new WebError('ET_FILE_MISSING', `${path} is gone (deleted, or its drive was removed): ${detail}`, { path, cause: error })
  }
  return new WebError('ET_READ', `cannot read ${path} (is its drive failing or removed?): ${detail}`, { path, cause: error })
}
