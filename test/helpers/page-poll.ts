import { request } from 'node:http'
import { createServer } from 'node:net'

/** What polling a page from a process's spawn saw: times are milliseconds after `since`. */
export interface PagePoll {
  /** When anything first answered (any HTTP status). */
  readonly firstAnswerMs: number
  readonly firstStatus: number
  /** When it first answered 200. */
  readonly firstOkMs: number
  /** Every status other than 200 seen before the first 200, in order. */
  readonly notOkBefore: readonly number[]
  /** Every status other than 200 seen after the first 200 (polling continues `afterOkPolls` times). */
  readonly notOkAfter: readonly number[]
}

/** A port free on `host` right now (bound to 0, read, closed), for a process that must be told its port before it starts. */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** One GET: its status, or undefined when nothing answers (refused, reset, timed out). */
async function statusOf (host: string, port: number, path: string, timeoutMs: number): Promise<number | undefined> {
  return await new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode))
      response.on('error', () => resolve(response.statusCode))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/**
 * GETs `path` one request after the other, starting one every `intervalMs` (or as soon as the last
 * ends, when it took longer), until it answers 200 and then `afterOkPolls` more times; throws after
 * `timeoutMs` without a 200. `onFirstOk` runs as the first 200 arrives.
 */
export async function pollPage (options: { host?: string, port: number, path?: string, since: number, intervalMs?: number, timeoutMs?: number, afterOkPolls?: number, onFirstOk?: () => void }): Promise<PagePoll> {
  const { host = '127.0.0.1', port, path = '/', since, intervalMs = 2, timeoutMs = 30_000, afterOkPolls = 20, onFirstOk } = options
  let firstAnswerMs: number | undefined
  let firstStatus: number | undefined
  let firstOkMs: number | undefined
  const notOkBefore: number[] = []
  const notOkAfter: number[] = []
  let after = 0
  while (after < afterOkPolls) {
    const startedAt = performance.now()
    if (startedAt - since > timeoutMs) throw new Error(`GET ${path} on ${host}:${port} did not answer 200 within ${timeoutMs} ms (statuses before: ${notOkBefore.join(' ') || 'none'})`)
    const status = await statusOf(host, port, path, 5_000)
    const answeredAt = performance.now() - since
    if (status !== undefined) {
      if (firstAnswerMs === undefined) {
        firstAnswerMs = answeredAt
        firstStatus = status
      }
      if (firstOkMs !== undefined) {
        after++
        if (status !== 200) notOkAfter.push(status)
      } else if (status === 200) {
        firstOkMs = answeredAt
        onFirstOk?.()
      } else {
        notOkBefore.push(status)
      }
    }
    const wait = intervalMs - (performance.now() - startedAt)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  return { firstAnswerMs: firstAnswerMs!, firstStatus: firstStatus!, firstOkMs: firstOkMs!, notOkBefore, notOkAfter }
}
