import test from 'ava'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import type { PortMappingError } from '../../appliance/network/errors.js'
import { defaultGatewayOf } from '../../appliance/network/default-gateway.js'
import { NatPmpGateway } from '../../appliance/network/nat-pmp-client.js'
import { decodeNatPmpResponse, encodeMappingRequest } from '../../appliance/network/nat-pmp-message.js'
import { descriptionLocation } from '../../appliance/network/ssdp-message.js'
import { connectionServiceOf, soapEnvelope, soapResult, UpnpFault } from '../../appliance/network/upnp-soap.js'

test('NAT-PMP: a mapping request is the 12 bytes of RFC 6886 §3.3, and its answer is read back', (t) => {
  t.deepEqual([...encodeMappingRequest({ protocol: 'tcp', internalPort: 6881, externalPort: 6882, lifetimeSeconds: 3600 })],
    [0, 2, 0, 0, 0x1a, 0xe1, 0x1a, 0xe2, 0, 0, 0x0e, 0x10])
  const answer = Buffer.from([0, 130, 0, 0, 0, 0, 0, 9, 0x1a, 0xe1, 0x1a, 0xe2, 0, 0, 0x0e, 0x10])
  t.deepEqual(decodeNatPmpResponse(answer), { kind: 'mapping', protocol: 'tcp', epoch: 9, internalPort: 6881, externalPort: 6882, lifetimeSeconds: 3600 })
  t.deepEqual(decodeNatPmpResponse(Buffer.from([0, 128, 0, 0, 0, 0, 0, 1, 11, 77, 0, 1])), { kind: 'external-address', epoch: 1, address: '11.77.0.1' })
})

test('NAT-PMP: hostile or refusing answers are errors with codes, never a crash', (t) => {
  for (const bytes of [[], [0], [0, 128, 0, 0], [1, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], [0, 128, 0, 0, 0, 0, 0, 0, 1], [0, 129, 0, 0, 0, 0, 0, 0, 1, 2], [0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]) {
    t.is(t.throws<PortMappingError>(() => decodeNatPmpResponse(Buffer.from(bytes)))?.code, 'ET_GATEWAY_MALFORMED', JSON.stringify(bytes))
  }
  const refused = t.throws<PortMappingError>(() => decodeNatPmpResponse(Buffer.from([0, 130, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])))
  t.is(refused?.code, 'ET_GATEWAY_REFUSED')
  t.regex(refused?.message ?? '', /not authorized/)
})

test('NAT-PMP client: garbage from the gateway is skipped, a refusal ends the request, silence times out; each socket is closed', async (t) => {
  const router = createSocket('udp4')
  let mode: 'garbage-then-answer' | 'refuse' | 'silent' = 'garbage-then-answer'
  router.on('message', (message, from) => {
    if (mode === 'silent') return
    if (mode === 'refuse') {
      router.send(Buffer.from([0, 128 + message[1]!, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]), from.port, from.address)
      return
    }
    router.send(Buffer.from('not NAT-PMP at all'), from.port, from.address)
    router.send(Buffer.from([0, 128, 0, 0, 0, 0, 0, 5, 198, 51, 100, 7]), from.port, from.address)
  })
  router.bind(0, '127.0.0.1')
  await once(router, 'listening')
  t.teardown(() => { router.close() })
  const gateway = new NatPmpGateway({ gateway: '127.0.0.1', port: router.address().port, firstWaitMs: 20 })
  t.is(await gateway.externalAddress(AbortSignal.timeout(5000)), '198.51.100.7')
  mode = 'refuse'
  t.is((await t.throwsAsync<PortMappingError>(gateway.externalAddress(AbortSignal.timeout(5000))))?.code, 'ET_GATEWAY_REFUSED')
  mode = 'silent'
  t.is((await t.throwsAsync<PortMappingError>(gateway.externalAddress(AbortSignal.timeout(5000))))?.code, 'ET_GATEWAY_TIMEOUT')
})

test('SSDP: a search answer gives its LOCATION only when it is http on the host that answered', (t) => {
  const answer = (location: string): Buffer => Buffer.from(`HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location}\r\n\r\n`)
  t.is(descriptionLocation(answer('http://192.168.1.1:5000/rootDesc.xml'), '192.168.1.1')?.href, 'http://192.168.1.1:5000/rootDesc.xml')
  t.is(descriptionLocation(answer('http://203.0.113.5/evil.xml'), '192.168.1.1'), undefined, 'a LAN device cannot send the box to another host')
  t.is(descriptionLocation(answer('file:///etc/passwd'), '192.168.1.1'), undefined)
  t.is(descriptionLocation(answer('not a url'), '192.168.1.1'), undefined)
  t.is(descriptionLocation(Buffer.from('NOTIFY * HTTP/1.1\r\nLOCATION: http://192.168.1.1/\r\n\r\n'), '192.168.1.1'), undefined)
  t.is(descriptionLocation(Buffer.alloc(10_000, 65), '192.168.1.1'), undefined)
})

test('UPnP: the WAN connection service and its control URL are found in a description, on the describing host only', (t) => {
  const location = new URL('http://192.168.1.1:5000/rootDesc.xml')
  const description = (control: string, type = 'urn:schemas-upnp-org:service:WANIPConnection:1'): string =>
    `<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/L3F</controlURL></service></serviceList>
     <deviceList><device><serviceList><service><serviceType>${type}</serviceType><controlURL>${control}</controlURL></service></serviceList></device></deviceList></device></root>`
  t.deepEqual(connectionServiceOf(description('/ctl/IPConn'), location), { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', controlUrl: new URL('http://192.168.1.1:5000/ctl/IPConn') })
  t.is(connectionServiceOf(description('/ctl/PPP', 'urn:schemas-upnp-org:service:WANPPPConnection:1'), location)?.controlUrl.pathname, '/ctl/PPP')
  t.is(connectionServiceOf(description('http://203.0.113.5/ctl'), location), undefined, 'a control URL elsewhere is not followed')
  t.is(connectionServiceOf('<root>garbage', location), undefined)
})

test('UPnP: SOAP answers are read, empty ones too, and faults carry the UPnP error code', (t) => {
  t.regex(soapEnvelope('urn:x', 'AddPortMapping', [['NewPortMappingDescription', 'a<b']]), /<u:AddPortMapping xmlns:u="urn:x"><NewPortMappingDescription>a&lt;b<\/NewPortMappingDescription><\/u:AddPortMapping>/)
  const address = soapResult(200, '<s:Envelope><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:x"><NewExternalIPAddress>11.77.0.1</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>', 'GetExternalIPAddress')
  t.is(address.get('NewExternalIPAddress'), '11.77.0.1')
  t.is(soapResult(200, '<s:Body><u:AddPortMappingResponse xmlns:u="urn:x"/></s:Body>', 'AddPortMapping').size, 0)
  t.is(t.throws<PortMappingError>(() => soapResult(200, '<html>hello</html>', 'AddPortMapping'))?.code, 'ET_GATEWAY_MALFORMED')
  const fault = t.throws(() => soapResult(500, '<s:Fault><detail><UPnPError><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>', 'AddPortMapping'))
  t.true(fault instanceof UpnpFault)
  t.is((fault as UpnpFault).upnpCode, 718)
  t.is((fault as UpnpFault).code, 'ET_GATEWAY_REFUSED')
})

test('the default gateway is read from /proc/net/route (little-endian hex), lowest metric first', (t) => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t014DA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t004DA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0'
  ].join('\n')
  t.is(defaultGatewayOf(table), '192.168.77.1')
  t.is(defaultGatewayOf(table.split('\n').filter((line) => !line.includes('\t00000000\t0')).join('\n')), undefined)
  t.is(defaultGatewayOf('garbage'), undefined)
})
