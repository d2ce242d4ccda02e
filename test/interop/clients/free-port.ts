import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: bind port 0, read the port, close.
 * For clients that cannot be told to pick their own port and report it.
 */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('freePort: the socket has no TCP address')
  return address.port
}
