import type { StatusSnapshot } from './status-model.js'

/**
 * One line for `systemctl status` (sd_notify STATUS=): "seeding 12 items, 3 peers, 1.2 MB/s up",
 * with hashing, paused items and errors when there are any. Short and stable, so it only changes
 * when something a person would notice does.
 */
export function statusLine (snapshot: StatusSnapshot): string {
  switch (snapshot.phase) {
    case 'booting': return 'starting'
    case 'reloading': return 'reloading the configuration'
    case 'stopping': return 'stopping'
    case 'running': break
  }
  const { seeding, hashing, errors, peers, uploadRate } = snapshot.totals
  const parts = [`seeding ${plural(seeding, 'item')}`]
  if (hashing > 0) parts.push(`hashing ${hashing}`)
  const paused = snapshot.items.filter((item) => item.state === 'paused').length
  if (paused > 0) parts.push(`${paused} paused`)
  if (errors > 0) parts.push(plural(errors, 'error'))
  parts.push(plural(peers, 'peer'), `${formatRate(uploadRate)} up`)
  return parts.join(', ')
}

/** Bytes per second in SI units with one decimal above a kilobyte: "0 B/s", "950 B/s", "1.2 MB/s". */
export function formatRate (bytesPerSecond: number): string {
  let value = bytesPerSecond
  let unit = 'B/s'
  for (const next of ['kB/s', 'MB/s', 'GB/s']) {
    if (value < 999.95) break
    value /= 1000
    unit = next
  }
  return unit === 'B/s' ? `${Math.round(value)} B/s` : `${value.toFixed(1)} ${unit}`
}

function plural (count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
