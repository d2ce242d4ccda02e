/** Where each file of a torrent lies in its content (`Metainfo.files`, a `TorrentFiles`). */
export interface FileLayout {
  readonly length: number
  offsetOf (index: number): number
  lengthOf (index: number): number
}

/** A run of bytes of one file that holds part of a span of the torrent's concatenated content. */
export interface FileRange {
  readonly fileIndex: number
  /** Where the run starts in the file. */
  readonly fileOffset: number
  /** Where the run goes in the span. */
  readonly spanOffset: number
  readonly length: number
}

/**
 * Maps `length` bytes at `offset` of the torrent's content (BEP 3: the files concatenated in order)
 * to runs of file bytes. Empty files take no bytes and never appear. `files` must be sorted by offset,
 * as `Metainfo.files` is; the span must lie within the content.
 */
export function fileRangesFor (files: FileLayout, offset: number, length: number): FileRange[] {
  const ranges: FileRange[] = []
  const end = offset + length
  for (let index = firstFileAt(files, offset); index < files.length; index++) {
    const fileOffset = files.offsetOf(index)
    if (fileOffset >= end) break
    const start = Math.max(offset, fileOffset)
    const stop = Math.min(end, fileOffset + files.lengthOf(index))
    if (stop <= start) continue
    ranges.push({ fileIndex: index, fileOffset: start - fileOffset, spanOffset: start - offset, length: stop - start })
  }
  return ranges
}

/** Binary search for the last file starting at or before `offset` (a torrent can have thousands of files). */
function firstFileAt (files: FileLayout, offset: number): number {
  let low = 0
  let high = files.length - 1
  let found = 0
  while (low <= high) {
    const middle = (low + high) >> 1
    if (files.offsetOf(middle) <= offset) {
      found = middle
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return found
}
