import test from 'ava'
import { cpuPerThousand, lossPercent, median, parseWrkOutput, ratioText, udpDrops, wrkErrors } from '../../scripts/bench-tracker-figures.js'

test('median of odd and even counts; NaN for none', (t) => {
  t.is(median([3, 1, 2]), 2)
  t.is(median([4, 1, 3, 2]), 2.5)
  t.true(Number.isNaN(median([])))
})

test('ratios read as evertorrent / opentracker, a dash where the peer\'s figure is zero', (t) => {
  t.is(ratioText(5000, 26_870), '0.19×')
  t.is(ratioText(0.075, 0.012), '6.3×')
  t.is(ratioText(236, 3.5), '67×')
  t.is(ratioText(1, 0), '–')
  t.is(ratioText(Number.NaN, 1), '–')
})

test('loss is the share of sent announces left unanswered; CPU per 1,000 answered', (t) => {
  t.is(lossPercent(40_000, 30_000), 25)
  t.is(lossPercent(0, 0), 0)
  t.is(lossPercent(10, 11), 0)
  t.is(cpuPerThousand(3, 60_000), 0.05)
  t.true(Number.isNaN(cpuPerThousand(1, 0)))
})

const WRK_STDOUT = `Running 5s test @ http://127.0.0.1:6969/
  2 threads and 100 connections
bench-tracker-json {"requests":35595,"durationUs":5001234,"connectErrors":0,"readErrors":36239,"writeErrors":0,"statusErrors":0,"timeouts":2,"failures":3,"p50Us":5950,"p99Us":53700,"maxUs":94100}
`

test('wrk\'s JSON line is found among its output; read errors (closes after an answer) are not errors', (t) => {
  const figures = parseWrkOutput(WRK_STDOUT)
  t.is(figures.requests, 35_595)
  t.is(figures.p99Us, 53_700)
  t.is(wrkErrors(figures), 5)
  t.throws(() => parseWrkOutput('Running 5s test\n'), { message: /no "bench-tracker-json " line/ })
})

// /proc/net/udp as Linux writes it on x86: addresses in host byte order.
const PROC_NET_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:1A0B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 11111 2 0000000000000000 11866
  102: 0200007F:1A0B 00000000:0000 07 00000000:00000000 00:00000000 00000000 65534        0 22222 2 0000000000000000 37
  103: 010A007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 33333 2 0000000000000000 5
  104: 020A007F:9C42 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 44444 2 0000000000000000 6
`

test('drops are summed over the sockets whose local address and port match', (t) => {
  t.is(udpDrops(PROC_NET_UDP, (address, port) => address === '127.0.0.1' && port === 6667), 11_866)
  t.is(udpDrops(PROC_NET_UDP, (address, port) => address === '127.0.0.2' && port === 6667), 37)
  t.is(udpDrops(PROC_NET_UDP, (address) => ['127.10.0.1', '127.10.0.2'].includes(address)), 0)
  t.is(udpDrops(PROC_NET_UDP, (address) => address.startsWith('127.0.10.')), 11)
})
