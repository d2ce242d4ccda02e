import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { BASE_DESCRIPTORS, descriptorBudget, otherDescriptors, parseOpenFilesLimit, readOpenFilesLimit } from '../../appliance/net/descriptor-budget.js'
import { tempDir } from '../helpers/temp-dir.js'

const demand = { httpConnections: 512, peerConnections: 200, reserve: 256, other: 100 }

test('limits that fit under the open-files limit are kept', (t) => {
  t.deepEqual(descriptorBudget({ ...demand, openFilesLimit: 4096 }), { httpConnections: 512, peerConnections: 200, lowered: false, needed: 1068, available: 3740 })
  t.deepEqual(descriptorBudget({ ...demand, openFilesLimit: 1068 }), { httpConnections: 512, peerConnections: 200, lowered: false, needed: 1068, available: 712 })
})

test('an unknown open-files limit (not Linux) keeps the limits', (t) => {
  t.deepEqual(descriptorBudget({ ...demand, openFilesLimit: undefined }), { httpConnections: 512, peerConnections: 200, lowered: false, needed: 1068, available: Infinity })
})

test('limits that do not fit are lowered in proportion, leaving the reserve and the rest free', (t) => {
  // 1024 (a shell's usual soft limit) - 256 reserve - 100 other = 668 for 712 wanted.
  const budget = descriptorBudget({ ...demand, openFilesLimit: 1024 })
  t.deepEqual(budget, { httpConnections: 480, peerConnections: 187, lowered: true, needed: 1068, available: 668 })
  t.true(budget.httpConnections + budget.peerConnections + demand.reserve + demand.other <= 1024)
})

test('a limit too small for anything still leaves the smallest allowed limits', (t) => {
  t.deepEqual(descriptorBudget({ ...demand, openFilesLimit: 300 }), { httpConnections: 16, peerConnections: 1, lowered: true, needed: 1068, available: 0 })
})

test('the other descriptors: a fixed base, the open content files and four per hashing thread', (t) => {
  t.is(otherDescriptors({ maxOpenFiles: 32, hashingThreads: 4 }), BASE_DESCRIPTORS + 32 + 16)
})

test('the soft open-files limit is read from /proc/<pid>/limits', (t) => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             95691                95691                processes ',
    'Max open files            4096                 8192                 files     ',
    'Max locked memory         8388608              8388608              bytes     '
  ].join('\n')
  t.is(parseOpenFilesLimit(text), 4096)
  t.is(parseOpenFilesLimit(text.replace('4096 ', 'unlimited')), undefined)
  t.is(parseOpenFilesLimit('no such line'), undefined)
})

test('readOpenFilesLimit: this process\'s limit, and undefined where there is no /proc', async (t) => {
  const ours = await readOpenFilesLimit()
  t.true(ours !== undefined && ours > 0, `read ${String(ours)}`)
  t.is(await readOpenFilesLimit(join(tempDir(t), 'missing')), undefined)
  const file = join(tempDir(t), 'limits')
  writeFileSync(file, 'Max open files            777                  999                  files\n')
  t.is(await readOpenFilesLimit(file), 777)
})

test('Node raises its soft open-files limit to the hard one at start, so the service reads the hard limit', (t) => {
  // What the budget relies on: under `ulimit -S -n 1024` (hard left as it is), node still sees the hard limit.
  const script = 'process.stdout.write(require("fs").readFileSync("/proc/self/limits", "utf8"))'
  const shell = spawnSync('/bin/sh', ['-c', `ulimit -S -n 1024 && ulimit -H -n && "${process.execPath}" -e '${script}'`], { encoding: 'utf8' })
  t.is(shell.status, 0, shell.stderr)
  const [hard, ...limits] = shell.stdout.split('\n')
  const hardLimit = Number(hard)
  t.true(hardLimit > 1024, `this check needs a hard limit above 1024 (it is ${String(hard)})`)
  t.is(parseOpenFilesLimit(limits.join('\n')), hardLimit)
})
