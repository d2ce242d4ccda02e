import { createHash, hash } from 'node:crypto'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Content } from '../metainfo/content.js'
import { parseTorrent, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { removeStaleTemporaries, writeFileAtomic } from '../platform/atomic-write.js'
import { isTransient } from './transient.js'

/**
 * What an item looked like when it was hashed: a digest of every file's path, size, mtime and inode
 * (`sha1:` and hex). Earlier versions kept the text itself (for 100,000 files, megabytes per item
 * in memory and in `resume.json`); such an entry still matches the digest of its text.
 */
export type ContentSignature = string

const DIGEST_PREFIX = 'sha1:'
/** Text hashed at once by `contentSignature`. */
const SIGNATURE_BATCH = 64 * 1024

interface ResumeEntry {
  readonly infoHash: InfoHash
  readonly signature: ContentSignature
}

interface ResumeFile {
  readonly version: 1
  readonly items: Record<string, ResumeEntry>
}

/** The state directory, or its `torrents/` folder, cannot be a folder: the service cannot start. */
export class StateDirError extends Error {
  readonly code = 'ET_STATE_DIR'

  constructor (message: string, readonly path: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.name = 'StateDirError'
  }
}

/** The digest of the text earlier versions kept: `JSON.stringify` of `[path, size, mtimeMs, ino]` per file, written out in batches. */
export function contentSignature (content: Content): ContentSignature {
  const { files } = content
  const digest = createHash('sha1')
  let text = '['
  for (let index = 0; index < files.length; index++) {
    if (index > 0) text += ','
    text += `[${JSON.stringify(files.relativePath(index))},${files.size(index)},${files.mtimeMs(index)},${files.ino(index) ?? 'null'}]`
    if (text.length < SIGNATURE_BATCH) continue
    digest.update(text)
    text = ''
  }
  return DIGEST_PREFIX + digest.update(`${text}]`).digest('hex')
}

function sameSignature (remembered: ContentSignature, signature: ContentSignature): boolean {
  return remembered.startsWith(DIGEST_PREFIX) ? remembered === signature : DIGEST_PREFIX + hash('sha1', remembered) === signature
}

/**
 * Fast resume: the state directory remembers, per item path, the signature of its files and the
 * torrent made from them (`torrents/<infohash>.torrent`). An item whose signature is unchanged is
 * published again without reading a byte of it. Every write is atomic (temp file, fsync, rename).
 */
export class ResumeStore {
  private entries = new Map<string, ResumeEntry>()
  private readonly torrentsDir: string
  private readonly indexPath: string
  private saving: Promise<void> = Promise.resolve()
  private dirty = false

  constructor (readonly stateDir: string, private readonly onSaveError: (error: unknown) => void) {
    this.torrentsDir = join(stateDir, 'torrents')
    this.indexPath = join(stateDir, 'resume.json')
  }

  /**
   * Reads the index; a missing or unreadable one starts empty, and an entry that is not what this
   * code writes is dropped (those items are then hashed again). `ET_STATE_DIR` when the state
   * directory or its `torrents/` folder cannot be made a folder.
   */
  async open (): Promise<void> {
    await this.makeFolders()
    await removeStaleTemporaries(this.stateDir)
    await removeStaleTemporaries(this.torrentsDir)
    try {
      this.entries = validEntries(JSON.parse(await readFile(this.indexPath, 'utf8')))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.entries.clear()
    }
  }

  private async makeFolders (): Promise<void> {
    try {
      await mkdir(this.torrentsDir, { recursive: true })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // EEXIST: torrents/ is a file; ENOTDIR: the state directory (or a folder above it) is one.
      const path = code === 'EEXIST' ? this.torrentsDir : this.stateDir
      const what = code === 'EEXIST' || code === 'ENOTDIR' ? `${path} (or a folder above it) is a file, not a folder` : `${path} cannot be made a folder (${code ?? String(error)})`
      throw new StateDirError(`state.dir: ${what}; move it out of the way or set state.dir to another folder`, path, { cause: error })
    }
  }

  torrentPath (infoHash: string): string {
    return join(this.torrentsDir, `${infoHash}.torrent`)
  }

  /** The torrent made earlier from exactly this content, if there is one and it reads back intact. */
  async lookup (itemPath: string, signature: ContentSignature): Promise<Metainfo | undefined> {
    const entry = this.entries.get(itemPath)
    if (entry === undefined || !sameSignature(entry.signature, signature)) return undefined
    try {
      const metainfo = parseTorrent(await readFile(this.torrentPath(entry.infoHash)))
      return metainfo.infoHash === entry.infoHash ? metainfo : undefined
    } catch (error) {
      // Out of descriptors says nothing about the torrent file: hashing the item again would be wrong.
      if (isTransient(error)) throw error
      return undefined
    }
  }

  /** `torrent`: its bytes, or its parts one after the other (`encodeTorrentParts`). */
  async remember (itemPath: string, signature: ContentSignature, infoHash: InfoHash, torrent: Uint8Array | readonly Uint8Array[]): Promise<void> {
    // Referenced before it exists, so a concurrent prune never deletes it; a lookup checks it reads back.
    this.entries.set(itemPath, { infoHash, signature })
    await writeFileAtomic(this.torrentPath(infoHash), torrent)
    this.scheduleSave()
  }

  /**
   * Rewrites a torrent file whose outer fields (trackers, web seeds) changed; the infohash stays. The
   * caller knows they changed: reading the file back to compare would be its whole size again (5 MB
   * for 100,000 files), left for the garbage collector of a service that may sit idle for hours.
   */
  async rewriteTorrent (infoHash: InfoHash, torrent: Uint8Array | readonly Uint8Array[]): Promise<void> {
    await writeFileAtomic(this.torrentPath(infoHash), torrent)
  }

  forget (itemPath: string): void {
    if (this.entries.delete(itemPath)) this.scheduleSave()
  }

  /** Resolves when everything remembered so far is on disk. */
  async flush (): Promise<void> {
    while (this.dirty) await this.saving
    await this.saving
  }

  private scheduleSave (): void {
    if (this.dirty) return
    this.dirty = true
    this.saving = this.saving.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200))
      this.dirty = false
      await this.save()
    }).catch(this.onSaveError)
  }

  private async save (): Promise<void> {
    const file: ResumeFile = { version: 1, items: Object.fromEntries(this.entries) }
    await writeFileAtomic(this.indexPath, JSON.stringify(file))
    await this.pruneTorrents()
  }

  /** Drops `.torrent` files no item refers to any more (content that changed or went away for good). */
  private async pruneTorrents (): Promise<void> {
    for (const name of await readdir(this.torrentsDir)) {
      // Checked against the entries of this moment, not of before the awaits: remember() may have
      // added a torrent meanwhile, and deleting it would leave the index pointing at nothing.
      if (name.endsWith('.torrent') && !this.isReferenced(name)) await rm(join(this.torrentsDir, name), { force: true })
    }
  }

  private isReferenced (fileName: string): boolean {
    for (const entry of this.entries.values()) {
      if (`${entry.infoHash}.torrent` === fileName) return true
    }
    return false
  }
}

/** The entries of a parsed index that are what `save` writes; anything else is left out. */
function validEntries (parsed: unknown): Map<string, ResumeEntry> {
  const entries = new Map<string, ResumeEntry>()
  const file = parsed as Partial<ResumeFile> | null
  if (file === null || typeof file !== 'object' || file.version !== 1 || file.items === null || typeof file.items !== 'object') return entries
  for (const [path, entry] of Object.entries(file.items as Record<string, unknown>)) {
    const candidate = entry as Partial<ResumeEntry> | null
    if (candidate === null || typeof candidate !== 'object') continue
    if (typeof candidate.infoHash !== 'string' || !/^[0-9a-f]{40}$/.test(candidate.infoHash) || typeof candidate.signature !== 'string') continue
    entries.set(path, { infoHash: candidate.infoHash as InfoHash, signature: candidate.signature })
  }
  return entries
}
