import type { ExecutionContext } from 'ava'
import { join } from 'node:path'
import { Catalog } from '../../appliance/catalog/catalog.js'
import type { ItemStatus } from '../../appliance/catalog/item-status.js'
import type { PausedItems } from '../../appliance/library/paused-items.js'
import { Publisher, type PublisherOptions } from '../../appliance/library/publisher.js'
import { ResumeStore } from '../../appliance/library/resume-store.js'

export interface StartedPublisher {
  readonly publisher: Publisher
  readonly catalog: Catalog
  readonly store: ResumeStore
  /** Every `item` event, in order. */
  readonly statuses: ItemStatus[]
  /** The name of every torrent `published`, in order. */
  readonly published: string[]
}

export interface TestPublisherOptions {
  /** Default: `state` beside the library. */
  readonly stateDir?: string
  /** Default 0: content a test writes is complete when written; the settle rule has tests of its own. */
  readonly settleMs?: number
  readonly threads?: number
  readonly trackersFor?: PublisherOptions['trackersFor']
  /** False: resolve at once, the first pass still running. Default true: resolve once it is done. */
  readonly waitForFirstPass?: boolean
  /** Opened by the test. Default: none, nothing can be paused. */
  readonly paused?: PausedItems
  readonly maxFilesPerItem?: number
  readonly format?: PublisherOptions['format']
  /** Default an hour: no periodic pass within a test unless it asks. */
  readonly rescanIntervalMs?: number
  readonly now?: PublisherOptions['now']
}

/** A publisher of `library` with its own resume store, closed when the test ends. */
export async function startPublisher (t: ExecutionContext, library: string, options: TestPublisherOptions = {}): Promise<StartedPublisher> {
  const catalog = new Catalog()
  const store = new ResumeStore(options.stateDir ?? join(library, '..', 'state'), (error) => t.fail(String(error)))
  await store.open()
  const publisher = new Publisher({
    libraries: [library],
    catalog,
    store,
    trackersFor: options.trackersFor ?? (() => ({ announceList: [], urlList: [] })),
    createdBy: 'evertorrent/test',
    threads: options.threads ?? 2,
    rescanIntervalMs: options.rescanIntervalMs ?? 3_600_000,
    settleMs: options.settleMs ?? 0,
    ...(options.paused !== undefined && { paused: options.paused }),
    ...(options.maxFilesPerItem !== undefined && { maxFilesPerItem: options.maxFilesPerItem }),
    ...(options.format !== undefined && { format: options.format }),
    ...(options.now !== undefined && { now: options.now })
  })
  const statuses: ItemStatus[] = []
  const published: string[] = []
  publisher.on('item', (status) => statuses.push(status))
  publisher.on('published', (torrent) => published.push(torrent.metainfo.name))
  t.teardown(async () => await publisher.close())
  const firstPass = publisher.start()
  if (options.waitForFirstPass !== false) await firstPass
  return { publisher, catalog, store, statuses, published }
}
