import type { ListedFile } from './file-change.js'
import { MetainfoError } from './errors.js'

/**
 * The files of a listing as plain typed arrays, so that hashing threads can be handed them without
 * a copy (the arrays live in SharedArrayBuffers) and without an object per file.
 */
export interface FileListingData {
  /** Put before every path to make it absolute: the content root and a separator, or the root file itself. */
  readonly base: string
  /** The paths below `base`, UTF-8, `/` between segments, one after the other. */
  readonly paths: Uint8Array
  /** Where each path ends in `paths`; it starts where the one before ends. */
  readonly pathEnds: Uint32Array
  readonly sizes: Float64Array
  readonly mtimes: Float64Array
  /** Undefined where the filesystem makes inode numbers up (see `hasStableInodes`). */
  readonly inodes: Float64Array | undefined
  /** Files reached through a symbolic link: their index and the real path they are read from. */
  readonly targets: ReadonlyMap<number, string>
}

/** One file of a listing, as a seeder or web seed reads it. */
export interface ListedContentFile extends ListedFile {
  readonly absolutePath: string
}

/**
 * Files in torrent order, packed: the bytes of their paths in one buffer and their sizes, mtimes and
 * inodes in typed arrays, so 100,000 files cost about their paths' bytes and 24 bytes each, not an
 * object, a stat result and a few strings each. `length`, `at` and iteration make it read like the
 * array of files it replaces.
 */
export class FileListing implements Iterable<ListedContentFile> {
  readonly totalBytes: number
  private readonly text: Buffer

  constructor (readonly data: FileListingData) {
    this.text = Buffer.from(data.paths.buffer, data.paths.byteOffset, data.paths.byteLength)
    let total = 0
    for (const size of data.sizes) total += size
    this.totalBytes = total
  }

  /** Files listed by their absolute paths (no common root). */
  static ofFiles (files: ReadonlyArray<ListedFile & { readonly path: string }>): FileListing {
    const builder = new FileListingBuilder('', files.some((file) => file.ino !== undefined), Infinity)
    for (const file of files) builder.add(file.path, file.size, file.mtimeMs, file.ino ?? 0)
    return builder.finish()
  }

  get length (): number {
    return this.data.pathEnds.length
  }

  /** The path below the root, `/` between segments; `''` for a single file. */
  relativePath (index: number): string {
    return this.text.toString('utf8', this.pathStart(index), this.data.pathEnds[index])
  }

  /** The raw bytes of `relativePath` (a view, not a copy). */
  relativePathBytes (index: number): Buffer {
    return this.text.subarray(this.pathStart(index), this.data.pathEnds[index])
  }

  /** One segment per folder below the root; `[]` when the content is a single file. */
  segments (index: number): string[] {
    const path = this.relativePath(index)
    return path === '' ? [] : path.split('/')
  }

  absolutePath (index: number): string {
    return this.data.targets.get(index) ?? this.data.base + this.relativePath(index)
  }

  size (index: number): number {
    return this.data.sizes[index]!
  }

  mtimeMs (index: number): number {
    return this.data.mtimes[index]!
  }

  ino (index: number): number | undefined {
    return this.data.inodes?.[index]
  }

  /** File `index` as an object, made on each call: for reading one file, not for keeping. */
  at (index: number): ListedContentFile | undefined {
    if (index < 0 || index >= this.length) return undefined
    const ino = this.ino(index)
    return { absolutePath: this.absolutePath(index), size: this.size(index), mtimeMs: this.mtimeMs(index), ...(ino !== undefined && { ino }) }
  }

  * [Symbol.iterator] (): Iterator<ListedContentFile> {
    for (let index = 0; index < this.length; index++) yield this.at(index)!
  }

  private pathStart (index: number): number {
    return index === 0 ? 0 : this.data.pathEnds[index - 1]!
  }
}

const INITIAL_FILES = 256
const INITIAL_PATH_BYTES = 16 * 1024

/** Collects files one by one, in the order given, into a `FileListing`; refuses more than `maxFiles`. */
export class FileListingBuilder {
  private paths = Buffer.allocUnsafe(INITIAL_PATH_BYTES)
  private pathBytes = 0
  private pathEnds = new Uint32Array(INITIAL_FILES)
  private sizes = new Float64Array(INITIAL_FILES)
  private mtimes = new Float64Array(INITIAL_FILES)
  private inodes: Float64Array | undefined
  private readonly targets = new Map<number, string>()
  private count = 0

  constructor (private readonly base: string, withInodes: boolean, private readonly maxFiles: number) {
    if (withInodes) this.inodes = new Float64Array(INITIAL_FILES)
  }

  /** `readPath`: where the file is read from when that is not `base` + `relativePath` (a symbolic link's target). */
  add (relativePath: string, size: number, mtimeMs: number, ino: number, readPath?: string): void {
    if (this.count === this.maxFiles) {
      throw new MetainfoError('ET_TOO_MANY_FILES', `${this.base} holds more than ${this.maxFiles.toLocaleString('en-US')} files; split it into several items or raise the limit`, { path: this.base })
    }
    if (this.count === this.pathEnds.length) this.growFiles()
    const bytes = Buffer.byteLength(relativePath)
    if (this.pathBytes + bytes > this.paths.length) this.growPaths(this.pathBytes + bytes)
    this.pathBytes += this.paths.write(relativePath, this.pathBytes)
    this.pathEnds[this.count] = this.pathBytes
    this.sizes[this.count] = size
    this.mtimes[this.count] = mtimeMs
    if (this.inodes !== undefined) this.inodes[this.count] = ino
    if (readPath !== undefined) this.targets.set(this.count, readPath)
    this.count += 1
  }

  /** The listing, in memory shared with hashing threads and of exactly its size. */
  finish (): FileListing {
    const count = this.count
    return new FileListing({
      base: this.base,
      paths: sharedCopy(new Uint8Array(this.paths.buffer, this.paths.byteOffset, this.pathBytes)),
      pathEnds: sharedCopy(this.pathEnds.subarray(0, count)),
      sizes: sharedCopy(this.sizes.subarray(0, count)),
      mtimes: sharedCopy(this.mtimes.subarray(0, count)),
      inodes: this.inodes === undefined ? undefined : sharedCopy(this.inodes.subarray(0, count)),
      targets: this.targets
    })
  }

  private growFiles (): void {
    const capacity = this.pathEnds.length * 2
    this.pathEnds = grown(this.pathEnds, new Uint32Array(capacity))
    this.sizes = grown(this.sizes, new Float64Array(capacity))
    this.mtimes = grown(this.mtimes, new Float64Array(capacity))
    if (this.inodes !== undefined) this.inodes = grown(this.inodes, new Float64Array(capacity))
  }

  private growPaths (needed: number): void {
    const larger = Buffer.allocUnsafe(Math.max(needed, this.paths.length * 2))
    this.paths.copy(larger, 0, 0, this.pathBytes)
    this.paths = larger
  }
}

function grown<T extends Uint32Array | Float64Array> (from: T, to: T): T {
  to.set(from)
  return to
}

type Shareable = Uint8Array | Uint32Array | Float64Array

function sharedCopy<T extends Shareable> (view: T): T {
  const Type = view.constructor as new (buffer: SharedArrayBuffer) => T
  const copy = new Type(new SharedArrayBuffer(view.byteLength))
  copy.set(view as never)
  return copy
}
