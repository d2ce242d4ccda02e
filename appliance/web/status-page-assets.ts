import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HttpServer, RouteHandler } from './http-server.js'
import { FAVICON_SVG } from './status-page/favicon-svg.js'
import { PAGE_CSS } from './status-page/page-css.js'
import { PAGE_HTML } from './status-page/page-html.js'

// The page's own files: fixed, so they can be served before the rest of the service is loaded
// (see front-door.ts); the data comes from the JSON API and the event stream (status-page.ts).

/** Where the browser finds the page's files; `/` is the page itself. */
export const STATUS_PAGE_ASSETS = ['/', '/assets/status-page.css', '/assets/status-page.js', '/favicon.svg'] as const

/**
 * The page's own files may come only from the box; data comes from the JSON API and the event stream.
 * Inline scripts and styles are refused, so markup injected through an item's name cannot run.
 */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export function mountStatusPageAssets (http: HttpServer): void {
  const clientScript = readFileSync(new URL('./status-page/client.js', import.meta.url), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')
  http.route(['GET', 'HEAD'], '/', asset(PAGE_HTML, 'text/html; charset=utf-8', { 'Content-Security-Policy': PAGE_POLICY }))
  http.route(['GET', 'HEAD'], '/assets/status-page.css', asset(PAGE_CSS, 'text/css; charset=utf-8'))
  http.route(['GET', 'HEAD'], '/assets/status-page.js', asset(clientScript, 'text/javascript; charset=utf-8'))
  http.route(['GET', 'HEAD'], '/favicon.svg', asset(FAVICON_SVG, 'image/svg+xml'))
}

/** A fixed file of the page, revalidated by ETag: a reload after an upgrade never runs old code. */
function asset (body: string, type: string, headers: Readonly<Record<string, string>> = {}): RouteHandler {
  const bytes = Buffer.from(body, 'utf8')
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`
  return (req, res) => { sendCached(req, res, bytes, type, headers, etag) }
}

export function sendCached (req: IncomingMessage, res: ServerResponse, body: string | Buffer, type: string, headers: Readonly<Record<string, string>> = {}, knownEtag?: string): void {
  const etag = knownEtag ?? `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-cache' })
    res.end()
    return
  }
  send(req, res, 200, body, { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag, ...headers })
}

export function send (req: IncomingMessage, res: ServerResponse, status: number, body: string | Buffer, headers: Readonly<Record<string, string>>): void {
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}
