import { request } from 'node:http'

export interface HttpAnswer {
  readonly status: number
  readonly body: Buffer
}

/**
 * One GET on a fresh connection from `localAddress`, as a client on another host would make it;
 * rejects on a refused or reset connection and after `timeoutMs` without the whole answer.
 */
export async function httpGet (url: string, localAddress: string, timeoutMs: number): Promise<HttpAnswer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { agent: false, localAddress, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }) })
      res.once('error', reject)
    })
    req.once('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)) })
    req.once('error', reject)
    req.end()
  })
}
