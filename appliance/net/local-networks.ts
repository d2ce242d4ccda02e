import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { networkInterfaces } from 'node:os'
import { normalizeAddress } from './peer-address.js'

/** One interface address with its prefix length, as `os.networkInterfaces()` gives it (`cidr`). */
export interface InterfaceNetwork {
  readonly address: string
  readonly prefix: number
}

export function listInterfaceNetworks (): InterfaceNetwork[] {
  return Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).flatMap((entry) => {
    const prefix = Number(entry.cidr?.split('/')[1])
    return Number.isInteger(prefix) ? [{ address: entry.address.replace(/%.*$/, ''), prefix }] : []
  }))
}

/**
 * Whether an address is on one of this machine's own networks (an interface's subnet, loopback
 * included): a peer there can reach the box at the address it used, a peer elsewhere came through the
 * router and must be handed the public address. The interface list is read again after `refreshMs`.
 */
export class LocalNetworks {
  private readonly list: () => readonly InterfaceNetwork[]
  private readonly refreshMs: number
  private readonly now: () => number
  private blocks: BlockList | undefined
  private readAt = 0

  constructor (options: { list?: () => readonly InterfaceNetwork[], refreshMs?: number, now?: () => number } = {}) {
    this.list = options.list ?? listInterfaceNetworks
    this.refreshMs = options.refreshMs ?? 30_000
    this.now = options.now ?? Date.now
  }

  contains (address: string): boolean {
    const normalized = normalizeAddress(address)
    const type = isIPv4(normalized) ? 'ipv4' : isIPv6(normalized) ? 'ipv6' : undefined
    if (type === undefined) return false
    return this.current().check(normalized, type)
  }

  private current (): BlockList {
    const now = this.now()
    if (this.blocks === undefined || now - this.readAt >= this.refreshMs) {
      const blocks = new BlockList()
      blocks.addSubnet('127.0.0.0', 8, 'ipv4')
      blocks.addSubnet('::1', 128, 'ipv6')
      for (const { address, prefix } of this.list()) {
        const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
        if (type !== undefined) blocks.addSubnet(address, prefix, type)
      }
      this.blocks = blocks
      this.readAt = now
    }
    return this.blocks
  }
}
