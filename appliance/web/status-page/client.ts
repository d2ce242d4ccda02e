/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The status page in the browser: one EventSource on `/api/events`, whose `snapshot` and `delta`
 * events fill the shell of `page-html.ts`. Item cards are made once and updated in place, so an open
 * QR code or a selected magnet link survives the updates. No framework, no build step but tsc.
 */
import type { ItemDoc, LedDoc, LibraryDoc, MirrorDoc, StatusDocument } from '../status-document.js'
import type { StatusDelta } from '../status-events.js'

const TOKEN_KEY = 'evertorrent.adminToken'
/** After a permanent failure (a 503, a non-stream answer) EventSource stops; we try again after this. */
const RESTART_MS = 5000

/** Local clock minus the server's, from the last event: uptimes tick on without an event a second. */
let clockOffset = 0
const items = new Map<string, ItemDoc>()
const cards = new Map<string, ItemCard>()

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

function connect (): void {
  const source = new EventSource('/api/events')
  source.addEventListener('open', () => { showConnection('live') })
  source.addEventListener('snapshot', (event) => {
    const status = JSON.parse((event as MessageEvent<string>).data) as StatusDocument
    items.clear()
    for (const item of status.items) items.set(item.id, item)
    apply(status)
    showConnection('live')
  })
  source.addEventListener('delta', (event) => {
    const { items: changed, removed, ...rest } = JSON.parse((event as MessageEvent<string>).data) as StatusDelta
    for (const id of removed) items.delete(id)
    for (const item of changed) items.set(item.id, item)
    apply({ ...rest, items: [...items.values()] })
  })
  source.addEventListener('error', () => {
    showConnection('lost')
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, RESTART_MS)
  })
}

function showConnection (state: 'live' | 'lost'): void {
  const element = byId('connection')
  if (element.dataset.state === state) return
  element.dataset.state = state
  element.textContent = state === 'live' ? 'Live' : 'Connection lost: reconnecting…'
  document.body.classList.toggle('stale', state === 'lost')
}

function apply (status: StatusDocument): void {
  clockOffset = Date.now() - status.generatedAt
  renderBox(status)
  renderReach(status)
  renderLeds(status.leds)
  renderLibraries(status)
  renderItems(status)
  renderMirrors(status.mirrors)
  renderActions(status)
}

// ---- the box -------------------------------------------------------------------------------------

function renderBox (status: StatusDocument): void {
  const { box, totals } = status
  document.title = `${box.name} · evertorrent`
  setText(byId('box-name'), box.name)
  setText(byId('version'), box.version)
  const totalsDl = byId('totals')
  const boxDl = byId('box')
  const totalsKey = JSON.stringify(totals)
  const boxKey = JSON.stringify(box)
  if (totalsDl.dataset.key !== totalsKey) {
    totalsDl.dataset.key = totalsKey
    fillDl(totalsDl, [
      ['Published', `${totals.seeding} of ${totals.items}`],
      ['Content', bytes(totals.bytesPublished)],
      ['Uploaded', bytes(totals.bytesUploaded)],
      ['Upload rate', rate(totals.uploadRate)],
      ['Peers', String(totals.peers)],
      ['Errors', String(totals.errors)]
    ])
  }
  if (boxDl.dataset.key !== boxKey) {
    boxDl.dataset.key = boxKey
    const port = location.port === '' ? '' : `:${location.port}`
    fillDl(boxDl, [
      ['Name', box.name],
      ['Addresses', list(box.addresses.map((address) => link(`http://${address.includes(':') ? `[${address}]` : address}${port}/`, address)))],
      ['Service up', element('span', { 'data-since': String(box.startedAt) })],
      ['Box up', element('span', { 'data-since': String(box.bootedAt) })],
      ['Version', box.version],
      ['Trackers', list(box.trackers.map((url) => code(url)))],
      ...(box.publicKey === undefined ? [] : [['Public key', code(box.publicKey)] as [string, Node]])
    ])
  }
  tickUptimes()
}

/** Uptimes go on between events, from the server's clock as of the last event. */
const ROUTER_STATES: Record<string, string> = {
  off: 'Port mapping off',
  searching: 'Looking for the router…',
  mapped: 'Ports mapped',
  'no-gateway': 'No router answers UPnP or NAT-PMP: reachable on the LAN only, unless ports are forwarded by hand',
  failed: 'The router refused the mapping'
}

function renderReach (status: StatusDocument): void {
  const dl = byId('reach')
  const reach = status.reachability
  const key = JSON.stringify(reach)
  if (dl.dataset.key === key) return
  dl.dataset.key = key
  const router = [ROUTER_STATES[reach.router.state] ?? reach.router.state, reach.router.method, reach.router.externalAddress === undefined ? undefined : `external address ${reach.router.externalAddress}`, reach.router.error]
    .filter((part) => part !== undefined).join(' · ')
  const mappings = reach.router.mappings.map((mapping) => {
    const lease = mapping.expiresAt === undefined ? 'permanent' : `lease until ${new Date(mapping.expiresAt).toLocaleTimeString()}`
    return `${mapping.purpose}: ${mapping.protocol.toUpperCase()} ${mapping.externalPort} → ${mapping.internalPort} (${lease})`
  })
  const { dht, peers } = reach
  fillDl(dl, [
    ['Public address', reach.publicHost ?? 'none: torrents name the LAN host only'],
    ['Router', router],
    ['Mappings', list(mappings.map((text) => code(text)))],
    ['DHT', dht.enabled ? `${dht.nodes} nodes · ${dht.announced} items announced` : 'off'],
    ['Peer encryption', `${peers.encrypted} encrypted · ${peers.plain} plain`]
  ])
}

function tickUptimes (): void {
  const serverNow = Date.now() - clockOffset
  for (const node of document.querySelectorAll<HTMLElement>('[data-since]')) {
    setText(node, duration(Math.max(0, Math.floor((serverNow - Number(node.dataset.since)) / 1000))))
  }
}

// ---- mirrors -------------------------------------------------------------------------------------

/** The boxes this one follows (`[[mirror]]`): one line of facts each, and what went wrong last. */
function renderMirrors (mirrors: readonly MirrorDoc[]): void {
  const list = byId('mirrors')
  byId('mirrors-section').hidden = mirrors.length === 0
  const key = JSON.stringify(mirrors)
  if (list.dataset.key === key) return
  list.dataset.key = key
  list.replaceChildren(...mirrors.map((mirror) => {
    const downloading = mirror.downloading === undefined
      ? []
      : [`fetching ${mirror.downloading.name}: ${bytes(mirror.downloading.verifiedBytes)} of ${bytes(mirror.downloading.totalBytes)}, ${mirror.downloading.peers} peers`]
    const facts = [
      `${mirror.items} items · ${bytes(mirror.bytes)}`,
      mirror.lastUpdateAt === undefined ? 'not reached yet' : `last answered ${new Date(mirror.lastUpdateAt).toLocaleString()}`,
      ...downloading,
      ...(mirror.refused.count === 0 ? [] : [`${mirror.refused.count} refused (last: ${mirror.refused.lastReason ?? '?'})`]),
      ...(mirror.dropped.count === 0 ? [] : [`${mirror.dropped.count} deleted (last: ${mirror.dropped.lastReason ?? '?'})`]),
      ...(mirror.lastError === undefined ? [] : [`error: ${mirror.lastError.message}`])
    ]
    return element('li', {}, [code(mirror.origin), element('p', {}, [facts.join(' · ')])])
  }))
}

// ---- LEDs ----------------------------------------------------------------------------------------

const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)')
const ledAnimations = new Map<string, { key: string, animation?: Animation }>()

function renderLeds (leds: readonly LedDoc[]): void {
  byId('leds-section').hidden = leds.length === 0
  const list = byId('leds')
  const key = JSON.stringify(leds)
  if (list.dataset.key === key) return
  list.dataset.key = key
  for (const { animation } of ledAnimations.values()) animation?.cancel()
  ledAnimations.clear()
  list.replaceChildren(...leds.map((led) => {
    const dot = element('span', { class: 'led-dot', 'aria-hidden': 'true' })
    dot.style.setProperty('--led', led.colour)
    const lit = led.onMs > 0
    dot.classList.toggle('lit', lit)
    let animation: Animation | undefined
    if (lit && led.offMs > 0 && !reducedMotion.matches) {
      const period = led.onMs + led.offMs
      const on = led.onMs / period
      animation = dot.animate([
        { opacity: 1, offset: 0 }, { opacity: 1, offset: on }, { opacity: 0.12, offset: on }, { opacity: 0.12, offset: 1 }
      ], { duration: period, iterations: Infinity, easing: 'linear' })
    }
    ledAnimations.set(led.name, { key, ...(animation !== undefined && { animation }) })
    const timing = !lit ? 'dark' : led.offMs === 0 ? 'steady' : `lit ${seconds(led.onMs)}, dark ${seconds(led.offMs)}`
    const text = element('span', { class: 'led-text' }, [
      element('strong', {}, [`${led.name} LED: ${led.pattern}`]),
      element('small', {}, [`${led.meaning} (${timing})`])
    ])
    return element('li', { 'data-pattern': led.pattern }, [dot, text])
  }))
}

// ---- libraries -----------------------------------------------------------------------------------

function renderLibraries (status: StatusDocument): void {
  byId('safe-to-remove').hidden = !status.safeToRemove
  const list = byId('libraries')
  const key = JSON.stringify([status.libraries, status.actions])
  if (list.dataset.key === key) return
  list.dataset.key = key
  const { enabled, available } = status.actions
  const ejectable = enabled && available.includes('eject-drive')
  list.replaceChildren(...status.libraries.map((library) => libraryRow(library, ejectable)))
}

function libraryRow (library: LibraryDoc, ejectable: boolean): HTMLElement {
  // Ejected on request: the page says which drive may go, which the one LED cannot.
  const state = library.state === 'ejected' ? 'Ejected: safe to unplug' : capitalise(library.state)
  const head = element('div', { class: 'library-head' }, [
    element('h3', {}, [library.name]),
    element('span', { class: 'kind' }, [library.kind === 'drive' ? 'Drive' : 'Folder']),
    element('span', { class: 'badge', 'data-state': library.state }, [state]),
    ...(ejectable && library.kind === 'drive' && library.state === 'present' ? [actionButton('eject-drive', `Eject ${library.name}`, 'Eject', { library: library.id })] : [])
  ])
  const parts: Node[] = [head]
  if (library.space !== undefined) {
    const { totalBytes, freeBytes, usedBytes } = library.space
    const meter = element('meter', { min: '0', max: String(totalBytes), value: String(usedBytes), high: String(totalBytes * 0.9), 'aria-label': `Space used on ${library.name}` })
    parts.push(meter, element('span', { class: 'space' }, [`${bytes(freeBytes)} free of ${bytes(totalBytes)} (${bytes(usedBytes)} used)`]))
  }
  return element('li', { 'data-library': library.id, 'data-state': library.state }, parts)
}

// ---- items ---------------------------------------------------------------------------------------

interface ItemCard {
  readonly root: HTMLElement
  readonly badge: HTMLElement
  readonly sub: HTMLElement
  readonly progress: HTMLElement
  readonly bar: HTMLProgressElement
  readonly progressText: HTMLElement
  readonly error: HTMLElement
  readonly fields: Record<'peers' | 'uploadRate' | 'uploaded' | 'seeders' | 'leechers' | 'completed', HTMLElement>
  readonly links: HTMLElement
  readonly more: HTMLDetailsElement
  readonly actions: HTMLElement
  key: string
}

function renderItems (status: StatusDocument): void {
  const list = byId('items')
  const order = new Map(status.libraries.map((library, index) => [library.id, index]))
  const sorted = [...items.values()].sort((a, b) => ((order.get(a.library) ?? 1e9) - (order.get(b.library) ?? 1e9)) || a.path.localeCompare(b.path))
  for (const [id, card] of cards) {
    if (!items.has(id)) {
      card.root.remove()
      cards.delete(id)
    }
  }
  sorted.forEach((item, index) => {
    let card = cards.get(item.id)
    if (card === undefined) {
      card = makeCard(item)
      cards.set(item.id, card)
    }
    updateCard(card, item, status)
    if (list.children[index] !== card.root) list.insertBefore(card.root, list.children[index] ?? null)
  })
  byId('items-empty').hidden = sorted.length > 0
  setText(byId('items-count'), sorted.length === 0 ? '' : `(${sorted.length})`)
}

function badgeText (item: ItemDoc): string {
  if (item.state === 'hashing' && item.hashing !== undefined) return `Hashing ${percent(item.hashing.fraction)}`
  // Published only once the copy into the library is complete, so that no link is to a partial file.
  if (item.state === 'waiting') return 'Waiting for the copy to finish'
  return capitalise(item.state)
}

function makeCard (item: ItemDoc): ItemCard {
  const stat = (label: string, field: string): [HTMLElement, HTMLElement] => {
    const value = element('dd', { 'data-field': field })
    return [element('div', {}, [element('dt', {}, [label]), value]), value]
  }
  const [peersBox, peers] = stat('Peers', 'peers')
  const [rateBox, uploadRate] = stat('Upload rate', 'upload-rate')
  const [uploadedBox, uploaded] = stat('Uploaded', 'uploaded')
  const [seedersBox, seeders] = stat('Seeders', 'seeders')
  const [leechersBox, leechers] = stat('Leechers', 'leechers')
  const [completedBox, completed] = stat('Downloads', 'completed')
  const badge = element('span', { class: 'badge' })
  const sub = element('p', { class: 'item-sub' })
  const bar = element('progress', { max: '1', 'aria-label': `Hashing progress of ${item.name}` }) as HTMLProgressElement
  const progressText = element('span')
  const progress = element('div', { class: 'progress' }, [bar, progressText])
  const error = element('p', { class: 'error' })
  const links = element('div', { class: 'links' })
  const more = element('details', { class: 'more' }) as HTMLDetailsElement
  const actions = element('div', { class: 'item-actions' })
  const root = element('li', { class: 'item', 'data-id': item.id }, [
    element('div', { class: 'item-head' }, [element('h3', {}, [item.name]), badge]),
    sub, progress, error,
    element('dl', { class: 'stats' }, [peersBox, rateBox, uploadedBox, seedersBox, leechersBox, completedBox]),
    links, more, actions
  ])
  return { root, badge, sub, progress, bar, progressText, error, fields: { peers, uploadRate, uploaded, seeders, leechers, completed }, links, more, actions, key: '' }
}

function updateCard (card: ItemCard, item: ItemDoc, status: StatusDocument): void {
  card.root.dataset.state = item.state
  card.badge.dataset.state = item.state
  setText(card.badge, badgeText(item))
  const size = item.totalBytes === undefined ? [] : [bytes(item.totalBytes)]
  const files = item.fileCount === undefined ? [] : [item.fileCount === 1 ? '1 file' : `${item.fileCount} files`]
  setText(card.sub, [`${item.library}/${item.path}`, ...size, ...files].join(' · '))
  card.progress.hidden = item.hashing === undefined
  if (item.hashing !== undefined) {
    card.bar.value = item.hashing.fraction
    const eta = item.hashing.etaSeconds === undefined ? '' : ` · about ${duration(item.hashing.etaSeconds)} left`
    setText(card.progressText, `${percent(item.hashing.fraction)} of ${bytes(item.totalBytes ?? 0)}${eta}`)
  }
  card.error.hidden = item.error === undefined
  setText(card.error, item.error === undefined ? '' : `${item.error.message} (${item.error.code})`)
  setText(card.fields.peers, String(item.peers))
  setText(card.fields.uploadRate, rate(item.uploadRate))
  setText(card.fields.uploaded, bytes(item.uploadedBytes))
  setText(card.fields.seeders, String(item.swarm.seeders))
  setText(card.fields.leechers, String(item.swarm.leechers))
  setText(card.fields.completed, String(item.swarm.completed))
  // Links and actions change rarely: remade only when they do, so focus and open details stay put.
  const key = JSON.stringify([item.links, item.state, status.actions])
  if (card.key === key) return
  card.key = key
  renderLinks(card, item)
  renderItemActions(card, item, status)
}

function renderLinks (card: ItemCard, item: ItemDoc): void {
  const links = item.links
  card.links.hidden = links === undefined
  card.more.hidden = links === undefined
  if (links === undefined) {
    card.links.replaceChildren()
    card.more.replaceChildren()
    return
  }
  const label = element('span', { 'aria-live': 'polite' }, ['Copy magnet link'])
  const copy = element('button', { type: 'button', class: 'primary', 'data-magnet': links.magnet }, [label, element('span', { class: 'visually-hidden' }, [` of ${item.name}`])])
  copy.addEventListener('click', () => {
    void copyText(links.magnet).then((ok) => {
      label.textContent = ok ? 'Copied ✓' : 'Copy failed: select the link below'
      if (!ok) card.more.open = true
      setTimeout(() => { label.textContent = 'Copy magnet link' }, 2500)
    })
  })
  // Accessible names start with the visible text (WCAG 2.5.3) and say which item they are for.
  card.links.replaceChildren(
    copy,
    link(links.magnet, 'Open magnet', { 'aria-label': `Open magnet link of ${item.name} in a BitTorrent client` }),
    link(links.torrent, '.torrent file', { download: '', 'aria-label': `.torrent file of ${item.name}` }),
    ...(links.download !== undefined ? [link(links.download, 'HTTP download', { download: '', 'aria-label': `HTTP download of ${item.name}` })] : [])
  )
  const wasOpen = card.more.open
  const magnetId = `magnet-${cssId(item.id)}`
  const seedId = `webseed-${cssId(item.id)}`
  card.more.replaceChildren(
    element('summary', {}, ['QR code and links']),
    element('div', { class: 'more-body' }, [
      element('img', { class: 'qr', src: links.qr, width: '240', height: '240', loading: 'lazy', alt: `QR code of the magnet link of ${item.name}` }),
      element('label', { for: magnetId }, ['Magnet link']),
      element('textarea', { id: magnetId, readonly: '', rows: '3', 'data-field': 'magnet' }, [links.magnet]),
      element('label', { for: seedId }, ['Web seed (BEP 19)']),
      element('input', { id: seedId, readonly: '', value: links.webSeed, 'data-field': 'webseed' }),
      element('span', { class: 'space' }, [`Infohash ${item.infoHash ?? ''}`])
    ])
  )
  card.more.open = wasOpen
}

/** Pause for an item that is or is about to be published (or failing); resume for a paused one. An offline item waits for its drive. */
function renderItemActions (card: ItemCard, item: ItemDoc, status: StatusDocument): void {
  const { enabled, available } = status.actions
  const buttons: HTMLElement[] = []
  if (enabled && available.includes('pause') && item.state !== 'paused' && item.state !== 'offline') buttons.push(actionButton('pause', `Pause ${item.name}`, 'Pause', { item: item.id }))
  if (enabled && available.includes('resume') && item.state === 'paused') buttons.push(actionButton('resume', `Resume ${item.name}`, 'Resume', { item: item.id }))
  card.actions.replaceChildren(...buttons)
}

// ---- actions -------------------------------------------------------------------------------------

function renderActions (status: StatusDocument): void {
  const { enabled, available } = status.actions
  byId('actions-off').hidden = enabled
  byId('actions-form').hidden = !enabled
  const eject = document.querySelector<HTMLButtonElement>('button[data-action="eject"]')!
  eject.hidden = !available.includes('eject') || !status.libraries.some((library) => library.kind === 'drive' && library.state === 'present')
}

/** A button of one item or drive; its accessible name starts with its visible text (WCAG 2.5.3) and names what it acts on. */
function actionButton (action: string, label: string, text: string, body: Record<string, string>): HTMLElement {
  const button = element('button', { type: 'button', 'aria-label': label, 'data-action': action }, [text])
  button.addEventListener('click', () => { void runAction(action, body, label) })
  return button
}

async function runAction (action: string, body: Record<string, string> = {}, title = capitalise(action)): Promise<void> {
  const result = byId('action-result')
  const token = byId<HTMLInputElement>('admin-token').value.trim()
  result.dataset.ok = 'true'
  result.textContent = `${title}…`
  try {
    const response = await fetch(`/api/actions/${action}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    })
    const answer = await response.json() as { done?: boolean, error?: { message: string } }
    result.dataset.ok = String(response.ok)
    result.textContent = response.ok
      ? `${title}: ${answer.done === true ? 'done' : 'started'}.`
      : response.status === 401 ? 'Wrong or missing admin token.' : answer.error?.message ?? `Failed (${response.status}).`
  } catch {
    result.dataset.ok = 'false'
    result.textContent = 'The box did not answer.'
  }
}

function setUpActions (): void {
  const input = byId<HTMLInputElement>('admin-token')
  input.value = sessionStorage.getItem(TOKEN_KEY) ?? ''
  input.addEventListener('input', () => { sessionStorage.setItem(TOKEN_KEY, input.value) })
  byId('actions-form').addEventListener('submit', (event) => { event.preventDefault() })
  for (const button of document.querySelectorAll<HTMLButtonElement>('#actions-form button[data-action]')) {
    button.addEventListener('click', () => { void runAction(button.dataset.action!) })
  }
}

/** The Clipboard API needs a secure context; a box on `http://` on the LAN is not one, so fall back to execCommand. */
async function copyText (text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard !== undefined) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      // Permission refused: the old way may still work.
    }
  }
  const area = element('textarea', { readonly: '', class: 'visually-hidden' }, [text]) as HTMLTextAreaElement
  document.body.append(area)
  area.select()
  const copied = document.execCommand('copy')
  area.remove()
  return copied
}

// ---- small helpers -------------------------------------------------------------------------------

function element (tag: string, attributes: Record<string, string> = {}, children: ReadonlyArray<Node | string> = []): HTMLElement {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

function link (href: string, text: string, attributes: Record<string, string> = {}): HTMLElement {
  return element('a', { href, ...attributes }, [text])
}

function code (text: string): HTMLElement {
  return element('code', {}, [text])
}

function list (nodes: readonly Node[]): HTMLElement {
  return nodes.length === 0 ? element('span', {}, ['none']) : element('ul', {}, nodes.map((node) => element('li', {}, [node])))
}

function fillDl (dl: HTMLElement, rows: ReadonlyArray<[string, string | Node]>): void {
  dl.replaceChildren(...rows.map(([label, value]) => element('div', {}, [element('dt', {}, [label]), element('dd', {}, [value])])))
}

function setText (node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text
}

function cssId (id: string): string {
  return Array.from(new TextEncoder().encode(id), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function capitalise (text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

function bytes (count: number): string {
  let value = count
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`
}

function rate (bytesPerSecond: number): string {
  return `${bytes(bytesPerSecond)}/s`
}

function percent (fraction: number): string {
  return `${Math.floor(fraction * 100)} %`
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2).replace(/0$/, '')} s`
}

/** The two largest units: `3 d 4 h`, `5 min 2 s`. */
function duration (total: number): string {
  const parts: Array<[number, string]> = [[Math.floor(total / 86400), 'd'], [Math.floor(total / 3600) % 24, 'h'], [Math.floor(total / 60) % 60, 'min'], [total % 60, 's']]
  const first = parts.findIndex(([value]) => value > 0)
  if (first === -1) return '0 s'
  return parts.slice(first, first + 2).filter(([value]) => value > 0).map(([value, unit]) => `${value} ${unit}`).join(' ')
}

setUpActions()
connect()
setInterval(tickUptimes, 1000)
