import test from 'ava'
import { isTemporaryName } from '../../appliance/metainfo/temporary-names.js'

test('names of files still being written by browsers, download and copy tools, in any case', (t) => {
  const names = [
    'film.mkv.part', 'FILM.MKV.PART', 'film.mkv.partial', 'setup.exe.crdownload', 'setup.exe.opdownload', 'Film.mp4.download',
    'upload.zip.filepart', 'linux.iso.!qB', 'linux.iso.!ut', 'linux.iso.aria2', 'report.tmp', 'REPORT.TMP'
  ]
  for (const name of names) t.true(isTemporaryName(name), name)
})

test('office owner and lock files, and rsync\'s hidden temporaries', (t) => {
  for (const name of ['~$report.docx', '~$', '.~lock.notes.odt#', '.~lock.#', '.film.mkv.Xa3bQ9', '.a.000000']) t.true(isTemporaryName(name), name)
})

test('ordinary names that merely look alike are kept', (t) => {
  const names = [
    'part', '.part', 'film.part.mkv', 'partial.txt', 'download', '.download', 'tmp', '.tmp', 'tmp.txt', 'report~$.docx', '$report',
    '.~lock.notes.odt', '.film.mkv.Xa3bQ', '.film.mkv.Xa3bQ9z', '.hidden', '.film.mkv.Xa-bQ9', 'film.mkv', 'README', '日本語.txt'
  ]
  for (const name of names) t.false(isTemporaryName(name), name)
})
