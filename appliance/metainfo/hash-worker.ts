import { parentPort } from 'node:worker_threads'
import type { JobMessage } from './hash-protocol.js'
import { chunkBuffer, hashUnits } from './unit-hasher.js'

/** A hashing thread of the pool: takes its share of each job, with nothing else to do between steps. */

const port = parentPort!
const chunk = chunkBuffer()

function finish (steps: Generator<void, unknown>): unknown {
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

port.on('message', (job: JobMessage) => port.postMessage(finish(hashUnits(job, chunk))))
