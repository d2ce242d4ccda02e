import test from 'ava'
import { isJunkName } from '../../appliance/metainfo/junk.js'

test('operating-system junk names, in any case', (t) => {
  const names = [
    '.DS_Store', '.ds_store', '.DS_STORE',
    'Thumbs.db', 'thumbs.db', 'THUMBS.DB',
    'desktop.ini', 'Desktop.ini', 'DESKTOP.INI',
    '$RECYCLE.BIN', '$Recycle.Bin', '$recycle.bin',
    'System Volume Information', 'system volume information', 'SYSTEM VOLUME INFORMATION',
    '.Trashes', '.trashes',
    '.Spotlight-V100', '.spotlight-v100',
    '.fseventsd', '.FSEVENTSD'
  ]
  for (const name of names) t.true(isJunkName(name), name)
})

test('macOS AppleDouble files (._*)', (t) => {
  for (const name of ['._photo.jpg', '._', '._.DS_Store', '._日本語.txt']) t.true(isJunkName(name), name)
})

test('ordinary names that merely look alike are kept', (t) => {
  const names = [
    'DS_Store', '.DS_Store.txt', 'x.DS_Store', 'Thumbs.db.bak', 'thumbs.db ', ' thumbs.db', 'Thumbs', 'desktop.ini.txt',
    'RECYCLE.BIN', '$RECYCLE', 'System Volume', '.Trash', '.Spotlight', 'fseventsd',
    'a._b', '_.b', '.hidden', '.', '..', 'README', 'ünïcødé.txt', '日本語.txt'
  ]
  for (const name of names) t.false(isJunkName(name), name)
})
