import type { InputEventLayout } from '../../appliance/hardware/input-event.js'

export interface Record {
  readonly sec: number
  readonly usec: number
  readonly type: number
  readonly code: number
  readonly value: number
}

/** `struct input_event` as the kernel writes it (little-endian), written out field by field from linux/input.h. */
export function encodeInputEvent (record: Record, layout: InputEventLayout): Buffer {
  if (layout === 'long64') {
    const bytes = Buffer.alloc(24)
    bytes.writeBigInt64LE(BigInt(record.sec), 0)
    bytes.writeBigInt64LE(BigInt(record.usec), 8)
    bytes.writeUInt16LE(record.type, 16)
    bytes.writeUInt16LE(record.code, 18)
    bytes.writeInt32LE(record.value, 20)
    return bytes
  }
  const bytes = Buffer.alloc(16)
  bytes.writeUInt32LE(record.sec, 0)
  bytes.writeUInt32LE(record.usec, 4)
  bytes.writeUInt16LE(record.type, 8)
  bytes.writeUInt16LE(record.code, 10)
  bytes.writeInt32LE(record.value, 12)
  return bytes
}

/** A key press or release followed by its EV_SYN/SYN_REPORT, as gpio-keys reports one edge. */
export function keyRecords (atMs: number, code: number, value: 0 | 1 | 2, layout: InputEventLayout): Buffer {
  const sec = Math.floor(atMs / 1000)
  const usec = Math.round((atMs % 1000) * 1000)
  return Buffer.concat([
    encodeInputEvent({ sec, usec, type: 1, code, value }, layout),
    encodeInputEvent({ sec, usec, type: 0, code: 0, value: 0 }, layout)
  ])
}
