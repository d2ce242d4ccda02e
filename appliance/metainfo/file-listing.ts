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

/**
 * The builder's arrays are growable SharedArrayBuffers: the address space for the most a listing
 * may take is reserved up front, costing nothing, and memory is committed only as they grow. So
 * they never move, there is no copy when growing or when finishing (for 100,000 files, an old and a
 * new generation of every array plus a shared copy of all of them were 13 MB at the peak), and the
 * finished listing is exactly its size, rounded up to pages.
 */
const MAX_RESERVED_FILES = 1 << 24
const MAX_PATH_BYTES = 1 << 30
const GROWTH_FILES = 4096
const GROWTH_PATH_BYTES = 256 * 1024

/** Collects files one by one, in the order given, into a `FileListing`; refuses more than `maxFiles`. */
export class FileListingBuilder {
  private readonly paths: GrowableArray<Uint8Array>
  private readonly pathEnds: GrowableArray<Uint32Array>
  private readonly sizes: GrowableArray<Float64Array>
  private readonly mtimes: GrowableArray<Float64Array>
  private readonly inodes: GrowableArray<Float64Array> | undefined
  private readonly targets = new Map<number, string>()
  private pathBytes = 0
  private count = 0

  constructor (private readonly base: string, withInodes: boolean, private readonly maxFiles: number) {
    const files = Math.min(maxFiles, MAX_RESERVED_FILES)
    this.paths = new GrowableArray(Uint8Array, MAX_PATH_BYTES, GROWTH_PATH_BYTES)
    this.pathEnds = new GrowableArray(Uint32Array, files, GROWTH_FILES)
    this.sizes = new GrowableArray(Float64Array, files, GROWTH_FILES)
    this.mtimes = new GrowableArray(Float64Array, files, GROWTH_FILES)
    if (withInodes) this.inodes = new GrowableArray(Float64Array, files, GROWTH_FILES)
  }

  /** `readPath`: where the file is read from when that is not `base` + `relativePath` (a symbolic link's target). */
  add (relativePath: string, size: number, mtimeMs: number, ino: number, readPath?: string): void {
    if (this.count === this.maxFiles || this.count === MAX_RESERVED_FILES) {
      throw new MetainfoError('ET_TOO_MANY_FILES', `${this.base} holds more than ${this.count.toLocaleString('en-US')} files; split it into several items or raise the limit`, { path: this.base })
    }
    const bytes = Buffer.byteLength(relativePath)
    if (this.pathBytes + bytes > MAX_PATH_BYTES) {
      throw new MetainfoError('ET_TOO_MANY_FILES', `the paths of the files in ${this.base} take more than ${MAX_PATH_BYTES / 2 ** 20} MiB; split it into several items`, { path: this.base })
    }
    const paths = this.paths.reserve(this.pathBytes + bytes)
    this.pathBytes += Buffer.from(paths.buffer, paths.byteOffset, paths.byteLength).write(relativePath, this.pathBytes)
    const index = this.count
    this.pathEnds.reserve(index + 1)[index] = this.pathBytes
    this.sizes.reserve(index + 1)[index] = size
    this.mtimes.reserve(index + 1)[index] = mtimeMs
    if (this.inodes !== undefined) this.inodes.reserve(index + 1)[index] = ino
    if (readPath !== undefined) this.targets.set(index, readPath)
    this.count += 1
  }

  /** The listing, in memory shared with hashing threads. */
  finish (): FileListing {
    const count = this.count
    return new FileListing({
      base: this.base,
      paths: this.paths.view(this.pathBytes),
      pathEnds: this.pathEnds.view(count),
      sizes: this.sizes.view(count),
      mtimes: this.mtimes.view(count),
      inodes: this.inodes?.view(count),
      targets: this.targets
    })
  }
}

type Element = Uint8Array | Uint32Array | Float64Array
interface ElementType<T extends Element> {
  readonly BYTES_PER_ELEMENT: number
  new (buffer: SharedArrayBuffer, byteOffset?: number, length?: number): T
}

/** A typed array over a growable SharedArrayBuffer, grown in steps of `step` elements up to `most`. */
class GrowableArray<T extends Element> {
  private readonly buffer: SharedArrayBuffer
  private array: T

  constructor (private readonly Type: ElementType<T>, most: number, private readonly step: number) {
    this.buffer = new SharedArrayBuffer(0, { maxByteLength: most * Type.BYTES_PER_ELEMENT })
    this.array = new Type(this.buffer)
  }

  /** The array, holding at least `length` elements. */
  reserve (length: number): T {
    if (length > this.array.length) {
      const bytes = Math.min(this.buffer.maxByteLength, Math.max(length, this.array.length + this.step) * this.Type.BYTES_PER_ELEMENT)
      this.buffer.grow(bytes)
      this.array = new this.Type(this.buffer)
    }
    return this.array
  }

  /** The first `length` elements, over the same memory. */
  view (length: number): T {
    return new this.Type(this.buffer, 0, length)
  }
}
