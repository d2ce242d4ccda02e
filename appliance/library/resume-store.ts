import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Content } from '../metainfo/content.js'
import { parseTorrent, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { removeStaleTemporaries, writeFileAtomic } from '../system/atomic-write.js'

/** What an item looked like when it was hashed: every file's path, size, mtime and inode. */
export type ContentSignature = string

interface ResumeEntry {
  readonly infoHash: InfoHash
  readonly signature: ContentSignature
}

interface ResumeFile {
  readonly version: 1
  readonly items: Record<string, ResumeEntry>
}

export function contentSignature (content: Content): ContentSignature {
  return JSON.stringify(content.files.map((file) => [file.segments.join('/'), file.size, file.mtimeMs, file.ino]))
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

  /** Reads the index; a missing or unreadable one starts empty (the items are then hashed again). */
  async open (): Promise<void> {
    await mkdir(this.torrentsDir, { recursive: true })
    await removeStaleTemporaries(this.stateDir)
    await removeStaleTemporaries(this.torrentsDir)
    try {
      const parsed = JSON.parse(await readFile(this.indexPath, 'utf8')) as ResumeFile
      if (parsed.version === 1 && typeof parsed.items === 'object') this.entries = new Map(Object.entries(parsed.items))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.entries.clear()
    }
  }

  torrentPath (infoHash: string): string {
    return join(this.torrentsDir, `${infoHash}.torrent`)
  }

  /** The torrent made earlier from exactly this content, if there is one and it reads back intact. */
  async lookup (itemPath: string, signature: ContentSignature): Promise<Metainfo | undefined> {
    const entry = this.entries.get(itemPath)
    if (entry === undefined || entry.signature !== signature) return undefined
    try {
      const metainfo = parseTorrent(await readFile(this.torrentPath(entry.infoHash)))
      return metainfo.infoHash === entry.infoHash ? metainfo : undefined
    } catch {
      return undefined
    }
  }

  async remember (itemPath: string, signature: ContentSignature, infoHash: InfoHash, torrent: Uint8Array): Promise<void> {
    // Referenced before it exists, so a concurrent prune never deletes it; a lookup checks it reads back.
    this.entries.set(itemPath, { infoHash, signature })
    await writeFileAtomic(this.torrentPath(infoHash), torrent)
    this.scheduleSave()
  }

  /** Rewrites a torrent file whose outer fields (trackers, web seeds) changed; the infohash stays. */
  async rewriteTorrent (infoHash: InfoHash, torrent: Uint8Array): Promise<void> {
    const path = this.torrentPath(infoHash)
    const current = await readFile(path).catch(() => undefined)
    if (current === undefined || !current.equals(torrent)) await writeFileAtomic(path, torrent)
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
