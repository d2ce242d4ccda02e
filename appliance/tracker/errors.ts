import { CodedError } from '../coded-error.js'

/** Stable codes for what the tracker reports; tests and the status model match on the code. */
export type TrackerErrorCode =
  /** An announce for an infohash this box does not publish, in `published-only` mode. */
  | 'ET_UNPUBLISHED'
  /** A malformed or hostile request; it got a failure response or was dropped. */
  | 'ET_BAD_REQUEST'
  /** A UDP socket could not be bound, failed, or could not send. */
  | 'ET_LISTEN'

export class TrackerError extends CodedError<TrackerErrorCode> {}
