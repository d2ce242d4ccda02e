// A plain bittorrent-dht node as a process of its own, for a test that needs one in another network
// namespace (a DHT bootstrap node on the "internet" side of the test router):
//   node dist/test/helpers/dht-node.js HOST
// prints {"port": N} once listening, then one {"announce": {...}} line per announce_peer it gets,
// and runs until it is sent SIGTERM.
import DHT from 'bittorrent-dht'

const host = process.argv[2]
if (host === undefined) {
  process.stderr.write('usage: dht-node.js HOST\n')
  process.exit(2)
}
const dht = new DHT({ bootstrap: false, host: false })
dht.on('announce', (peer: { host: string, port: number }, infoHash: Buffer) => {
  process.stdout.write(`${JSON.stringify({ announce: { infoHash: infoHash.toString('hex'), host: peer.host, port: peer.port } })}\n`)
})
dht.listen(0, host, () => { process.stdout.write(`${JSON.stringify({ port: dht.address().port })}\n`) })
process.on('SIGTERM', () => { dht.destroy(() => process.exit(0)) })
