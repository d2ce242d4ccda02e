import { isDeepStrictEqual } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExecutionContext } from 'ava'

/**
 * Asserts that `read()` comes to equal `expected` within `timeoutMs`: the fake kernel answers a
 * write a moment later, as udev does on a real one, and a real kernel answers at once.
 */
export async function eventually<T> (t: ExecutionContext, read: () => T, expected: T, message?: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let actual = read()
  while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
    await sleep(5)
    actual = read()
  }
  t.deepEqual(actual, expected, message)
}
