import test from 'ava'
import { readFileSync } from 'node:fs'
import { effectiveOpenFiles, unitLimits } from '../../scripts/soak/unit-limits.js'
import { sourcePath } from '../helpers/repo.js'

test('the shipped unit: its MemoryMax, and its open-files limit or systemd\'s default', (t) => {
  const unit = readFileSync(sourcePath('config/evertorrent.service'), 'utf8')
  const limits = unitLimits(unit)
  t.is(limits.memoryMaxBytes, Number(/^MemoryMax=(\d+)M$/m.exec(unit)![1]) * 1024 * 1024)
  const nofile = /^LimitNOFILE=(\d+)$/m.exec(unit)?.[1]
  t.deepEqual(limits.openFiles, nofile === undefined ? { soft: 1024, hard: 524_288 } : { soft: Number(nofile), hard: Number(nofile) })
})

test('units with other limits, and none', (t) => {
  t.deepEqual(unitLimits('[Service]\nMemoryMax=1G\nLimitNOFILE=1024:4096\n'), { memoryMaxBytes: 1024 ** 3, openFiles: { soft: 1024, hard: 4096 }, openFilesFromUnit: true })
  t.deepEqual(unitLimits('[Service]\nMemoryMax=500000\n'), { memoryMaxBytes: 500_000, openFiles: { soft: 1024, hard: 524_288 }, openFilesFromUnit: false })
  t.is(unitLimits('[Service]\nMemoryMax=infinity\n').memoryMaxBytes, undefined)
})

test('node runs at its hard limit, which no child gets above its parent\'s', (t) => {
  t.deepEqual(effectiveOpenFiles({ soft: 1024, hard: 524_288 }, 20_000), { soft: 20_000, hard: 20_000 })
  t.deepEqual(effectiveOpenFiles({ soft: 2048, hard: 2048 }, 20_000), { soft: 2048, hard: 2048 })
})
