/**
 * Names that programs give a file (or folder) while they are still writing it, and rename or delete
 * once done. Such a file is never published: its content is incomplete by its own account. Compared
 * case-insensitively, like junk names, because FAT and exFAT drives are.
 *
 * - `*.part`: Firefox, Transmission, KDE and wget2 downloads; `*.partial`: Firefox and other browsers;
 *   `*.crdownload`: Chrome, Edge; `*.opdownload`: Opera; `*.download`: Safari (a folder);
 *   `*.filepart`: WinSCP uploads; `*.!qb`, `*.!ut`: qBittorrent, µTorrent incomplete files;
 *   `*.aria2`: aria2's control file beside a download in progress; `*.tmp`: many Windows programs.
 * - `~$*`: Microsoft Office owner files beside an open document; `.~lock.*#`: LibreOffice locks.
 * - `.<name>.XXXXXX`: rsync's hidden temporary (a dot, the file's name, a dot and six letters or
 *   digits), renamed to `<name>` once complete. A hidden file whose name really ends in a dot and six
 *   letters is taken for one too: a rare name in published content, and it is left out, not published.
 */
const TEMPORARY_SUFFIXES = ['.part', '.partial', '.crdownload', '.opdownload', '.download', '.filepart', '.!qb', '.!ut', '.aria2', '.tmp']
const RSYNC_TEMPORARY = /^\..+\.[A-Za-z0-9]{6}$/
const LIBREOFFICE_LOCK = /^\.~lock\..*#$/

/** True for the name of a file that a copy or download in progress is still writing. */
export function isTemporaryName (name: string): boolean {
  const lower = name.toLowerCase()
  // A suffix alone is no name (".part" is a hidden file, not a temporary).
  if (TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix) && lower.length > suffix.length)) return true
  return name.startsWith('~$') || LIBREOFFICE_LOCK.test(name) || RSYNC_TEMPORARY.test(name)
}
