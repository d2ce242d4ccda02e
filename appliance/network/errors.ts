import { CodedError } from '../coded-error.js'

export type PortMappingErrorCode =
  /** The gateway's answer could not be read: too short, wrong version, unknown field. */
  | 'ET_GATEWAY_MALFORMED'
  /** The gateway answered, and said no (a NAT-PMP result code, a UPnP fault). */
  | 'ET_GATEWAY_REFUSED'
  /** No answer in time. */
  | 'ET_GATEWAY_TIMEOUT'
  /** A socket or HTTP error on the way to the gateway. */
  | 'ET_GATEWAY_UNREACHABLE'

export class PortMappingError extends CodedError<PortMappingErrorCode> {}
