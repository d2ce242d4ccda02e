/**
 * `struct input_event` from linux/input.h: a timeval (seconds, microseconds), then type (u16),
 * code (u16) and value (s32). The timeval is two longs of the reading process, so the record is
 * 24 bytes for a 64-bit process and 16 bytes for a 32-bit one (armhf, even on a 64-bit kernel, and
 * even with 64-bit time_t, where the kernel still sends unsigned longs).
 */
export type InputEventLayout = 'long64' | 'long32'

export const INPUT_EVENT_SIZE: Record<InputEventLayout, number> = { long64: 24, long32: 16 }

export const EV_SYN = 0
export const EV_KEY = 1
/** EV_KEY values. */
export const KEY_RELEASE = 0
export const KEY_PRESS = 1
export const KEY_AUTOREPEAT = 2
/** Default key for the button: free for us, unlike KEY_POWER (116), which systemd-logind acts on. */
export const KEY_PROG1 = 148

export interface InputEvent {
  /** The kernel's event time in milliseconds (CLOCK_REALTIME unless the reader asked for another). */
  readonly timeMs: number
  readonly type: number
  readonly code: number
  readonly value: number
}

/** The layout of the process we run in: what the kernel will write to us. */
export function nativeInputEventLayout (arch: string = process.arch): InputEventLayout {
  return arch === 'arm' || arch === 'ia32' || arch === 'mipsel' ? 'long32' : 'long64'
}

/** The whole records in `bytes`, and the bytes of a record still incomplete. Little-endian, as on ARM and x86. */
export function parseInputEvents (bytes: Buffer, layout: InputEventLayout): { events: InputEvent[], rest: Buffer } {
  const size = INPUT_EVENT_SIZE[layout]
  const events: InputEvent[] = []
  let offset = 0
  for (; offset + size <= bytes.length; offset += size) {
    const wide = layout === 'long64'
    const seconds = wide ? Number(bytes.readBigInt64LE(offset)) : bytes.readUInt32LE(offset)
    const micros = wide ? Number(bytes.readBigInt64LE(offset + 8)) : bytes.readUInt32LE(offset + 4)
    const at = offset + (wide ? 16 : 8)
    events.push({
      timeMs: seconds * 1000 + micros / 1000,
      type: bytes.readUInt16LE(at),
      code: bytes.readUInt16LE(at + 2),
      value: bytes.readInt32LE(at + 4)
    })
  }
  return { events, rest: bytes.subarray(offset) }
}
