import { PortMappingError } from './errors.js'

// RFC 6886 (NAT-PMP): requests and responses are a few fixed-size big-endian fields over UDP.

export const NAT_PMP_PORT = 5351
const VERSION = 0
const RESPONSE_BIT = 128

export type TransportProtocol = 'tcp' | 'udp'

/** RFC 6886 §3.3: opcode 1 maps UDP, 2 maps TCP. */
const MAP_OPCODE: Record<TransportProtocol, number> = { udp: 1, tcp: 2 }

export interface MappingRequest {
  readonly protocol: TransportProtocol
  readonly internalPort: number
  /** The external port asked for; the gateway may grant another. */
  readonly externalPort: number
  /** 0 removes the mapping (RFC 6886 §3.4). */
  readonly lifetimeSeconds: number
}

export type NatPmpResponse =
  | { readonly kind: 'external-address', readonly epoch: number, readonly address: string }
  | { readonly kind: 'mapping', readonly protocol: TransportProtocol, readonly epoch: number, readonly internalPort: number, readonly externalPort: number, readonly lifetimeSeconds: number }

/** RFC 6886 §3.5 result codes, for messages a person can act on. */
const RESULT_TEXT: Record<number, string> = {
  1: 'unsupported version',
  2: 'not authorized or refused (port mapping disabled on the router?)',
  3: 'network failure (the router has no external address yet?)',
  4: 'out of resources (no more mappings)',
  5: 'unsupported opcode'
}

export function encodeExternalAddressRequest (): Buffer {
  return Buffer.from([VERSION, 0])
}

export function encodeMappingRequest (request: MappingRequest): Buffer {
  const message = Buffer.alloc(12)
  message.writeUInt8(VERSION, 0)
  message.writeUInt8(MAP_OPCODE[request.protocol], 1)
  message.writeUInt16BE(request.internalPort, 4)
  message.writeUInt16BE(request.externalPort, 6)
  message.writeUInt32BE(request.lifetimeSeconds, 8)
  return message
}

/** The opcode of the response that answers `request`'s opcode. */
export function responseOpcodeFor (request: Buffer): number {
  return RESPONSE_BIT + request.readUInt8(1)
}

/** Reads a response datagram; throws a PortMappingError for anything malformed or a refusal. */
export function decodeNatPmpResponse (message: Buffer): NatPmpResponse {
  if (message.length < 8) throw malformed(`${message.length} bytes, fewer than a response has`)
  const version = message.readUInt8(0)
  const opcode = message.readUInt8(1)
  if (version !== VERSION) throw malformed(`version ${version}`)
  const resultCode = message.readUInt16BE(2)
  if (resultCode !== 0) {
    throw new PortMappingError('ET_GATEWAY_REFUSED', `NAT-PMP gateway refused: ${RESULT_TEXT[resultCode] ?? `result code ${resultCode}`}`)
  }
  const epoch = message.readUInt32BE(4)
  if (opcode === RESPONSE_BIT) {
    if (message.length < 12) throw malformed('external address response shorter than 12 bytes')
    return { kind: 'external-address', epoch, address: [...message.subarray(8, 12)].join('.') }
  }
  const protocol = opcode === RESPONSE_BIT + 1 ? 'udp' : opcode === RESPONSE_BIT + 2 ? 'tcp' : undefined
  if (protocol === undefined) throw malformed(`opcode ${opcode}`)
  if (message.length < 16) throw malformed('mapping response shorter than 16 bytes')
  return {
    kind: 'mapping',
    protocol,
    epoch,
    internalPort: message.readUInt16BE(8),
    externalPort: message.readUInt16BE(10),
    lifetimeSeconds: message.readUInt32BE(12)
  }
}

function malformed (what: string): PortMappingError {
  return new PortMappingError('ET_GATEWAY_MALFORMED', `malformed NAT-PMP response: ${what}`)
}
