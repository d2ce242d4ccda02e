import test from 'ava'
import { parseByteCount, parsePositiveInteger } from '../../appliance/cli/create-command.js'
import { UsageError } from '../../appliance/cli/usage-error.js'

test('parseByteCount reads bytes with optional K or M suffixes', (t) => {
  const cases: Array<[string, number]> = [['0', 0], ['16384', 16384], ['16K', 16384], ['16k', 16384], ['1M', 1048576], ['4m', 4194304], ['007', 7]]
  for (const [text, bytes] of cases) t.is(parseByteCount(text, '-l'), bytes, text)
})

test('parseByteCount rejects anything else as a usage error naming the option', (t) => {
  for (const text of ['', 'K', '1G', '1.5M', '-16K', '16 K', '16KB', '0x4000', '1e6', ' 16K']) {
    const error = t.throws(() => parseByteCount(text, '--piece-length'), { instanceOf: UsageError }, text)
    t.true(error?.message.includes('--piece-length'))
    t.true(error?.message.includes(`"${text}"`))
  }
})

test('parsePositiveInteger accepts whole numbers from 1', (t) => {
  for (const [text, value] of [['1', 1], ['8', 8], ['016', 16]] as const) t.is(parsePositiveInteger(text, '-t'), value)
  for (const text of ['0', '-1', '1.5', '', 'two', '1e3', '0x10', ' 2', '99999999999999999999']) {
    t.throws(() => parsePositiveInteger(text, '--threads'), { instanceOf: UsageError, message: /--threads/ }, text)
  }
})
