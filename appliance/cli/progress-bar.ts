import type { WriteStream } from 'node:tty'
import type { HashProgress } from '../metainfo/piece-hasher.js'

const WIDTH = 30

/** A one-line hashing progress bar with rate and ETA, redrawn in place on a terminal. */
export class ProgressBar {
  private readonly started = Date.now()
  private lastDraw = 0

  constructor (private readonly stream: WriteStream, private readonly now: () => number = Date.now) {}

  update ({ bytesHashed, totalBytes }: HashProgress): void {
    const now = this.now()
    if (now - this.lastDraw < 100 && bytesHashed < totalBytes) return
    this.lastDraw = now
    this.stream.write(`\r${formatProgressLine(bytesHashed, totalBytes, (now - this.started) / 1000)}\x1b[K`)
  }

  finish (): void {
    this.stream.write('\r\x1b[K')
  }
}

export function formatProgressLine (bytesHashed: number, totalBytes: number, elapsedSeconds: number): string {
  const fraction = totalBytes === 0 ? 1 : bytesHashed / totalBytes
  const filled = Math.round(fraction * WIDTH)
  const rate = elapsedSeconds > 0 ? bytesHashed / elapsedSeconds : 0
  const eta = rate > 0 ? (totalBytes - bytesHashed) / rate : undefined
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ` +
    `${formatBytes(rate)}/s  ETA ${eta === undefined ? '--:--' : formatDuration(eta)}`
}

export function formatBytes (bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

function formatDuration (seconds: number): string {
  const whole = Math.ceil(seconds)
  const hours = Math.floor(whole / 3600)
  const minutes = Math.floor((whole % 3600) / 60)
  const rest = String(whole % 60).padStart(2, '0')
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`
}
