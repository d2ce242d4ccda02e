import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RouteHandler, RouteMatch } from './http-server.js'
import { sendJson, sendJsonError } from './json-response.js'
import type { ActionName } from './status-document.js'

/**
 * The actions the status page can ask for. The service's `Commands` fits it; each optional one is
 * offered on the page only once the service has it. Items and drives are named by their
 * status-model paths.
 */
export interface StatusPageCommands {
  /** Looks at every library again now. */
  readonly rescan: () => Promise<void>
  /** Unmounts every drive so that it is safe to pull. */
  readonly eject?: () => Promise<void>
  /** Unmounts one drive, by its library path, so that it is safe to pull. */
  readonly ejectDrive?: (library: string) => Promise<void>
  /** Stops seeding one item until resumed. */
  readonly pause?: (itemPath: string) => Promise<void>
  readonly resume?: (itemPath: string) => Promise<void>
}

export interface ActionFailure {
  readonly action: ActionName
  readonly error: unknown
}

export interface StatusActionsOptions {
  /** Empty: every action is refused (403). */
  readonly adminToken: string
  readonly commands: StatusPageCommands
  /** The status-model path of the item with this page id, if there is one. */
  readonly itemPath: (id: string) => string | undefined
  /** The status-model path of the mounted drive with this library id, if there is one. */
  readonly drivePath: (id: string) => string | undefined
  /** An action that finished after its request was answered (202) and then failed. */
  readonly onLateFailure: (failure: ActionFailure) => void
  /** How long a request waits for its action before answering 202 Accepted. */
  readonly answerWithinMs?: number
}

/** Each action and the command it runs. */
const COMMANDS: Readonly<Record<ActionName, keyof StatusPageCommands>> = { rescan: 'rescan', eject: 'eject', 'eject-drive': 'ejectDrive', pause: 'pause', resume: 'resume' }
const ACTIONS = Object.keys(COMMANDS) as ActionName[]
export const MAX_BODY_BYTES = 4096

export function availableActions (commands: StatusPageCommands): ActionName[] {
  return ACTIONS.filter((name) => typeof commands[COMMANDS[name]] === 'function')
}

/**
 * Route handler for `POST /api/actions/*`. Actions are off unless an admin token is configured
 * (403), and need `Authorization: Bearer <token>` (401 without it). Cross-site pages cannot send
 * that header without a CORS preflight, which this server never grants.
 */
export function statusActionsHandler (options: StatusActionsOptions): RouteHandler {
  const expected = options.adminToken === '' ? undefined : digest(options.adminToken)
  const answerWithinMs = options.answerWithinMs ?? 2000
  return async (req: IncomingMessage, res: ServerResponse, match: RouteMatch): Promise<void> => {
    if (expected === undefined) {
      sendJsonError(res, 403, 'ET_ACTIONS_DISABLED', 'actions are turned off on this box: set web.admin_token in its config to turn them on')
      return
    }
    if (!tokenMatches(req.headers.authorization, expected)) {
      sendJsonError(res, 401, 'ET_UNAUTHORIZED', 'this action needs the admin token: send "Authorization: Bearer <web.admin_token>"', { 'WWW-Authenticate': 'Bearer realm="evertorrent"' })
      return
    }
    const action = ACTIONS.find((name) => name === match.rest)
    if (action === undefined) {
      sendJsonError(res, 404, 'ET_UNKNOWN_ACTION', `no action "${match.rest}"; there are ${ACTIONS.join(', ')}`)
      return
    }
    const body = await readJsonBody(req)
    if (body === undefined) {
      sendJsonError(res, 400, 'ET_BAD_REQUEST', `the body must be a JSON object of at most ${MAX_BODY_BYTES} bytes, or empty`)
      return
    }
    const run = startAction(action, body, options, res)
    if (run === undefined) return
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      run.then(() => 'done' as const, (error: unknown) => ({ error })),
      new Promise<'running'>((resolve) => { timer = setTimeout(() => { resolve('running') }, answerWithinMs) })
    ])
    clearTimeout(timer)
    if (outcome === 'running') {
      run.catch((error: unknown) => { options.onLateFailure({ action, error }) })
      sendJson(res, 202, { action, done: false })
    } else if (outcome === 'done') {
      sendJson(res, 200, { action, done: true })
    } else {
      sendJsonError(res, 500, 'ET_ACTION_FAILED', `${action} failed: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`)
    }
  }
}

/** Starts `action`, or answers the request itself (and returns undefined) when it cannot. */
function startAction (action: ActionName, body: Record<string, unknown>, options: StatusActionsOptions, res: ServerResponse): Promise<void> | undefined {
  const { commands } = options
  if (action === 'rescan') return settle(commands.rescan)
  if (action === 'eject') return commands.eject === undefined ? notAvailable(res, action) : settle(commands.eject)
  const command = action === 'eject-drive' ? commands.ejectDrive : commands[action]
  if (command === undefined) return notAvailable(res, action)
  const path = action === 'eject-drive' ? named(body.library, options.drivePath) : named(body.item, options.itemPath)
  if (path === undefined) {
    if (action === 'eject-drive') sendJsonError(res, 404, 'ET_UNKNOWN_DRIVE', `${action} needs {"library": "<id>"} naming a mounted drive of /api/status`)
    else sendJsonError(res, 404, 'ET_UNKNOWN_ITEM', `${action} needs {"item": "<id>"} naming an item of /api/status`)
    return undefined
  }
  return settle(async () => { await command(path) })
}

/** The path `find` gives for the id in a body field, if the field is a string and names something. */
function named (id: unknown, find: (id: string) => string | undefined): string | undefined {
  return typeof id === 'string' ? find(id) : undefined
}

/** Runs a command so that a synchronous throw becomes a rejection like any other failure. */
async function settle (command: () => Promise<void>): Promise<void> {
  await command()
}

function notAvailable (res: ServerResponse, action: ActionName): undefined {
  sendJsonError(res, 501, 'ET_NOT_AVAILABLE', `this box cannot ${action} yet`)
  return undefined
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** Compared as SHA-256 digests, so the time taken says nothing about the token, not even its length. */
function tokenMatches (header: string | undefined, expected: Buffer): boolean {
  const token = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1]
  return timingSafeEqual(digest(token ?? ''), expected) && token !== undefined
}

/** The request body as a JSON object (`{}` when empty); undefined when too long or not an object. */
async function readJsonBody (req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > MAX_BODY_BYTES) return undefined
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}
