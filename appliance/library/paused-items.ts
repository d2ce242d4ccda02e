import { EventEmitter } from 'node:events'
import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { writeFileAtomic } from '../platform/atomic-write.js'

interface PausedFile {
  readonly version: 1
  /** Item paths, as the library lists them (`<library>/<name>`). */
  readonly items: readonly string[]
}

/** The paused-items file is damaged (it is then ignored) or cannot be written, or an item to pause is no item. */
export class PausedItemsError extends Error {
  constructor (readonly code: 'ET_PAUSED_STATE' | 'ET_UNKNOWN_ITEM', message: string, readonly path: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.name = 'PausedItemsError'
  }
}

export interface PausedItemsEvents {
  /** The file was damaged at `open` (no item is paused then), or a forgotten item could not be saved. */
  warning: [error: PausedItemsError]
}

/**
 * Which library items a person paused, kept in `paused.json` in the state directory so that a
 * restart keeps them paused. Every change is written atomically before it takes effect: a pause
 * that was answered survives a power cut. Stale temporaries of a write cut short are the state
 * directory's one cleaner's business (`ResumeStore.open`).
 */
export class PausedItems extends EventEmitter<PausedItemsEvents> {
  readonly file: string
  private paths = new Set<string>()
  /** Changes are written one after the other, each from the set the one before left. */
  private writing: Promise<void> = Promise.resolve()

  constructor (stateDir: string) {
    super()
    this.file = join(stateDir, 'paused.json')
  }

  /**
   * Reads the file. A missing one pauses nothing; a damaged one (not what `save` writes) pauses
   * nothing either and is reported once as a `warning`: the next pause or resume writes it anew.
   */
  async open (): Promise<void> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      this.damaged(error instanceof Error ? error.message : String(error), error)
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      this.damaged('not JSON', error)
      return
    }
    const items = validItems(parsed)
    if (items === undefined) this.damaged('not {"version": 1, "items": [<absolute item paths>]}')
    else this.paths = new Set(items)
  }

  has (path: string): boolean {
    return this.paths.has(path)
  }

  get items (): readonly string[] {
    return [...this.paths]
  }

  /** Pauses `path`; resolves once that is on disk, rejects (nothing changed) when it cannot be written. */
  async add (path: string): Promise<void> {
    await this.change((next) => next.add(path))
  }

  /** Resumes `path`; resolves once that is on disk, rejects (nothing changed) when it cannot be written. */
  async delete (path: string): Promise<void> {
    await this.change((next) => next.delete(path))
  }

  /** Forgets an item that is gone from its library; a failure to save is a `warning`. */
  forget (path: string): void {
    if (!this.paths.has(path)) return
    this.delete(path).catch((error: unknown) => {
      this.emit('warning', new PausedItemsError('ET_PAUSED_STATE', `cannot forget the paused item ${path}: ${error instanceof Error ? error.message : String(error)}`, this.file, { cause: error }))
    })
  }

  /** Resolves when every change asked for so far is written (or failed). */
  async flush (): Promise<void> {
    await this.writing
  }

  private async change (edit: (next: Set<string>) => unknown): Promise<void> {
    const run = this.writing.then(async () => {
      const next = new Set(this.paths)
      edit(next)
      if (next.size === this.paths.size && [...next].every((path) => this.paths.has(path))) return
      const file: PausedFile = { version: 1, items: [...next].sort() }
      await writeFileAtomic(this.file, `${JSON.stringify(file, null, 2)}\n`)
      this.paths = next
    })
    this.writing = run.catch(() => {})
    await run
  }

  private damaged (reason: string, cause?: unknown): void {
    this.emit('warning', new PausedItemsError('ET_PAUSED_STATE', `${this.file} is damaged (${reason}): no item is paused; pausing or resuming an item writes it anew`, this.file, { cause }))
  }
}

/** The items of a parsed file, if it is exactly what `change` writes. */
function validItems (parsed: unknown): string[] | undefined {
  const file = parsed as Partial<PausedFile> | null
  if (file === null || typeof file !== 'object' || Array.isArray(file) || file.version !== 1 || !Array.isArray(file.items)) return undefined
  const items: unknown[] = file.items
  return items.every((item) => typeof item === 'string' && isAbsolute(item)) ? items as string[] : undefined
}
