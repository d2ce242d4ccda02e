import { EventEmitter } from 'node:events'
import type { Settings } from '../config/settings.js'
import { DriveWatcher, type Drive, type DriveWatcherOptions } from './drive-watcher.js'

/** A library: a folder from the config, or a drive mounted under the media root. */
export interface Library {
  readonly path: string
  readonly kind: 'folder' | 'drive'
  /** Drives: `present` while mounted, `removed` once gone (their items are offline). */
  readonly state: 'present' | 'removed'
}

export interface LibrariesOptions {
  /** The configured library folders; `apply` changes them. */
  readonly folders: readonly string[]
  /** Where drives are watched and how they are ejected; undefined: no drives. */
  readonly drives: DriveWatcherOptions | undefined
}

/** The libraries' options from the settings table; the one place their keys are read (at start and on reload, see `Libraries.apply`). */
export function librariesOptionsFrom (settings: Settings): LibrariesOptions {
  const mediaRoot = settings['library.media_root']
  return {
    folders: settings['library.folders'],
    drives: mediaRoot === ''
      ? undefined
      : { mediaRoot, publishFolder: settings['library.publish_folder_only'] ? 'publish' : undefined, ejectCommand: settings['library.eject_command'] }
  }
}

export interface LibrariesEvents {
  /** The libraries changed (a folder configured or dropped, a drive mounted or gone), with all of them. */
  change: [libraries: readonly Library[]]
  warning: [message: string]
}

/**
 * Every library there is: the configured folders and the drives under the media root. Drives seen
 * once stay listed, as removed, so their items show as offline rather than vanish.
 */
export class Libraries extends EventEmitter<LibrariesEvents> {
  private folders: readonly string[]
  private readonly watcher: DriveWatcher | undefined
  private readonly seenDrives = new Set<string>()

  constructor (options: LibrariesOptions) {
    super()
    this.folders = [...options.folders]
    this.watcher = options.drives === undefined ? undefined : new DriveWatcher(options.drives)
    this.watcher?.on('change', () => { this.changed() })
    this.watcher?.on('warning', (message) => this.emit('warning', message))
  }

  /** Every library, folders first, then every drive seen since start. */
  get all (): readonly Library[] {
    const mounted = new Set(this.drives.map((drive) => drive.library))
    return [
      ...this.folders.map((path) => ({ path, kind: 'folder' as const, state: 'present' as const })),
      ...[...this.seenDrives].map((path) => ({ path, kind: 'drive' as const, state: mounted.has(path) ? 'present' as const : 'removed' as const }))
    ]
  }

  /** The folders to publish now: the configured ones and those of the mounted drives. */
  get present (): string[] {
    return this.all.filter((library) => library.state === 'present').map((library) => library.path)
  }

  /** The drives mounted now. */
  get drives (): readonly Drive[] {
    return this.watcher?.drives ?? []
  }

  /** True when drives are watched (a media root is set), so that there are drives to eject. */
  get watchesDrives (): boolean {
    return this.watcher !== undefined
  }

  /** False for a drive's folder whose drive is no longer mounted: it reads as an empty folder (see `DriveWatcher.isMounted`). */
  readonly isAvailable = async (library: string): Promise<boolean> => await (this.watcher?.isMounted(library) ?? true)

  async start (): Promise<void> {
    await this.watcher?.start()
  }

  async close (): Promise<void> {
    await this.watcher?.close()
  }

  /** Unmounts every drive; rejects naming those still mounted. */
  async eject (): Promise<void> {
    await this.watcher?.eject()
  }

  /** Unmounts the drive of `library` (see `DriveWatcher.ejectDrive`). */
  async ejectDrive (library: string): Promise<void> {
    await this.watcher?.ejectDrive(library)
  }

  /** New settings while running (a config reload): the configured folders. Drives are watched as started. */
  apply (settings: Settings): void {
    const { folders } = librariesOptionsFrom(settings)
    if (folders.length === this.folders.length && folders.every((folder, index) => folder === this.folders[index])) return
    this.folders = [...folders]
    this.changed()
  }

  private changed (): void {
    for (const drive of this.drives) this.seenDrives.add(drive.library)
    this.emit('change', this.all)
  }
}
