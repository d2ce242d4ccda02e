import { constants } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { hardwareErrorFrom } from './errors.js'

const RETRY_MS = 10

export async function readAttribute (path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw hardwareErrorFrom(error, path, what)
  }
}

/**
 * Writes a sysfs attribute. It is opened without O_CREAT: an attribute exists or it does not,
 * and a typo must fail, not create a file. Some attributes appear a moment after the write that
 * makes them (trigger=timer makes delay_on; export makes gpioN/) and get their group from udev
 * later still, so a missing or forbidden file is retried for up to `waitMs`.
 */
export async function writeAttribute (path: string, value: string, what: string, waitMs = 0): Promise<void> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_TRUNC)
      try {
        await handle.write(value)
      } finally {
        await handle.close()
      }
      return
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code
      if ((errno === 'ENOENT' || errno === 'EACCES') && Date.now() < deadline) {
        await sleep(RETRY_MS)
        continue
      }
      throw hardwareErrorFrom(error, path, what)
    }
  }
}
