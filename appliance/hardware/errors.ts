import { CodedError } from '../coded-error.js'

/** Stable codes for what can go wrong with LEDs and buttons. None of them stops the service. */
export type HardwareErrorCode =
  /** The LED, GPIO line, input device or tool does not exist (wrong name, overlay not loaded). */
  | 'ET_HW_MISSING'
  /** It exists but the service may not use it (permissions: a udev rule or group is missing). */
  | 'ET_HW_ACCESS'
  /** Reading or writing it failed for another reason. */
  | 'ET_HW_IO'
  /** The installed tool cannot do what is asked (libgpiod v1 tools for gpio-cdev). */
  | 'ET_HW_UNSUPPORTED'
  /** The hardware settings do not make sense together. */
  | 'ET_HW_CONFIG'
  /** A helper process (gpioset, gpiomon) ended while it should still run. */
  | 'ET_HW_EXITED'
  /** A command started by a button (rescan, eject, shutdown) failed. */
  | 'ET_HW_COMMAND'

export class HardwareError extends CodedError<HardwareErrorCode> {}

/** Turns a failed file operation on `path` into a HardwareError that says what to do. */
export function hardwareErrorFrom (error: unknown, path: string, what: string): HardwareError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code
  if (errno === 'ENOENT' || errno === 'ENODEV' || errno === 'ENXIO') {
    return new HardwareError('ET_HW_MISSING', `${what}: ${path} does not exist — check the device tree overlay and the setting`, { path, cause: error })
  }
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new HardwareError('ET_HW_ACCESS', `${what}: no permission for ${path} — give the service user access (udev rule or group), see docs/hardware.md`, { path, cause: error })
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new HardwareError('ET_HW_IO', `${what}: ${path}: ${reason}`, { path, cause: error })
}
