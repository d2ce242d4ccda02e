import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempHome {
  /** The environment to start the child with: `base` with HOME and the XDG folders in a fresh temp folder. */
  readonly env: NodeJS.ProcessEnv
  /** Removes the folder and whatever the child wrote there. */
  readonly remove: () => void
}

/**
 * A fresh, empty home for one child process. Clients write settings and caches under $HOME and the
 * XDG folders (qBittorrent's Qt settings, Chromium's NSS database and crash reports, aria2's DHT
 * state) even when given a profile folder; with this, none of it reaches the real home.
 */
export function tempHome (base: NodeJS.ProcessEnv = process.env): TempHome {
  const home = mkdtempSync(join(tmpdir(), 'evertorrent-home-'))
  return {
    env: {
      ...base,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_STATE_HOME: join(home, '.local', 'state')
    },
    remove: () => { rmSync(home, { recursive: true, force: true }) }
  }
}
