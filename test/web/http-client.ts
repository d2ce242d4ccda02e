import { request } from 'node:http'
import { connect } from 'node:net'

export interface HttpResult {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Buffer
}

/** One GET (or other method) on a fresh connection from `localAddress`. */
export async function httpGet (host: string, port: number, path: string, options: { localAddress?: string, method?: string, headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return await new Promise((resolve, reject) => {
    const req = request({
      host,
      port,
      path,
      method: options.method ?? 'GET',
      agent: false,
      ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
      ...(options.headers !== undefined && { headers: options.headers })
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end()
  })
}

/** Writes `raw` on a fresh TCP connection and collects everything until the server closes it or `timeoutMs` passes. */
export async function rawExchange (host: string, port: number, raw: string, timeoutMs = 2000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')) }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
    socket.once('error', (error) => { clearTimeout(timer); reject(error) })
    socket.write(raw)
  })
}
