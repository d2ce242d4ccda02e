import { EventEmitter } from 'node:events'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isWellFormedKrpc } from './krpc-message.js'

export interface GuardedSocketEvents {
  message: [datagram: Buffer, remote: RemoteInfo]
  listening: []
  close: []
  error: [error: Error]
  /** A datagram that was dropped: malformed, of the wrong types, too large, or one the DHT code choked on. */
  dropped: [remote: RemoteInfo, reason: 'malformed' | 'threw', error?: unknown]
}

/**
 * The UDP socket handed to bittorrent-dht (through k-rpc-socket's `socket` option) in place of its
 * own: it passes on only datagrams that `isWellFormedKrpc` accepts, and catches whatever the DHT
 * code still throws on one, so a hostile datagram is dropped and never reaches the process's
 * uncaught-exception handler. It offers the part of dgram.Socket k-rpc-socket uses.
 */
export class GuardedSocket extends EventEmitter<GuardedSocketEvents> {
  private readonly socket: Socket

  constructor (socket: Socket = createSocket('udp4')) {
    super()
    this.socket = socket
    socket.on('message', (datagram, remote) => this.onDatagram(datagram, remote))
    socket.on('listening', () => this.emit('listening'))
    socket.on('close', () => this.emit('close'))
    socket.on('error', (error) => this.emit('error', error))
  }

  bind (port: number, address: string, onListening?: () => void): void {
    this.socket.bind(port, address, onListening)
  }

  address (): { address: string, port: number } {
    return this.socket.address()
  }

  send (datagram: Buffer, offset: number, length: number, port: number, host: string, callback: (error: Error | null) => void): void {
    try {
      this.socket.send(datagram, offset, length, port, host, callback)
    } catch (error) {
      // A closed socket or a port number out of range (a hostile `nodes` entry): the query fails, nothing else.
      callback(error instanceof Error ? error : new Error(String(error)))
    }
  }

  close (): void {
    this.socket.close()
  }

  private onDatagram (datagram: Buffer, remote: RemoteInfo): void {
    if (!isWellFormedKrpc(datagram)) {
      this.emit('dropped', remote, 'malformed')
      return
    }
    try {
      this.emit('message', datagram, remote)
    } catch (error) {
      this.emit('dropped', remote, 'threw', error)
    }
  }
}
