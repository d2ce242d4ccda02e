import test from 'ava'
import { mountsUnder, parseMountInfo } from '../../appliance/library/mount-table.js'

const MOUNTINFO = [
  '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/mmcblk0p2 rw',
  '40 22 8:1 / /media/evertorrent/MUSIC ro,nosuid,nodev,noexec,relatime shared:20 - vfat /dev/sda1 ro,fmask=0022',
  '41 22 8:17 / /media/evertorrent/My\\040Photos ro,nosuid,nodev,noexec - exfat /dev/sdb1 ro',
  '42 40 8:33 / /media/evertorrent/MUSIC/nested rw - ext4 /dev/sdc1 rw',
  '43 22 8:49 / /media/evertorrent-other rw - ext4 /dev/sdd1 rw',
  'garbage line',
  ''
].join('\n')

test('mountinfo lines are parsed, with octal escapes undone and bad lines skipped', (t) => {
  const mounts = parseMountInfo(MOUNTINFO)
  t.is(mounts.length, 5)
  t.deepEqual(mounts[1], { mountPoint: '/media/evertorrent/MUSIC', fsType: 'vfat', source: '/dev/sda1', options: ['ro', 'nosuid', 'nodev', 'noexec', 'relatime'] })
  t.is(mounts[2]!.mountPoint, '/media/evertorrent/My Photos')
})

test('only mounts one level below the media root count as drives', (t) => {
  const drives = mountsUnder(parseMountInfo(MOUNTINFO), '/media/evertorrent')
  t.deepEqual(drives.map((mount) => mount.mountPoint), ['/media/evertorrent/MUSIC', '/media/evertorrent/My Photos'])
})

test('the last mount on a path wins', (t) => {
  const stacked = `${MOUNTINFO}\n50 22 8:65 / /media/evertorrent/MUSIC ro - ext4 /dev/sde1 ro`
  t.is(mountsUnder(parseMountInfo(stacked), '/media/evertorrent')[0]!.source, '/dev/sde1')
})
