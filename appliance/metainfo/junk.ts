/**
 * Names that operating systems leave on removable drives and nobody means to publish. Compared
 * case-insensitively because the drives they come from (FAT, exFAT, NTFS) are case-insensitive.
 */
const JUNK_NAMES = new Set([
  '.ds_store',
  'thumbs.db',
  'desktop.ini',
  '$recycle.bin',
  'system volume information',
  '.trashes',
  '.spotlight-v100',
  '.fseventsd'
])

/** True for a file or folder name that is never published (macOS `._*` AppleDouble files included). */
export function isJunkName (name: string): boolean {
  return name.startsWith('._') || JUNK_NAMES.has(name.toLowerCase())
}
