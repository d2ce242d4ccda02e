/**
 * What the status page costs: the weight of everything a browser loads for it (uncompressed), and the
 * memory `evertorrent serve` adds while pages are open (VmRSS before and with them, and the peak).
 * Prints the figures; asserts nothing.
 *
 * Usage: node dist/scripts/bench-status-page.js [--items N] [--pages N] [--seconds N] [--chromium PATH]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { STATUS_PAGE_ASSETS } from '../appliance/web/status-page-assets.js'
import type { StatusDocument } from '../appliance/web/status-document.js'
import { memoryOf } from '../test/helpers/proc.js'
import { ServeProcess, type LogLine } from '../test/helpers/serve-process.js'
import { tempHome } from '../test/helpers/temp-home.js'

const USAGE = `Usage: node dist/scripts/bench-status-page.js [options]

Options:
  --items N      library items published (default: 50)
  --pages N      browser pages kept open on the status page (default: 5)
  --seconds N    how long the pages stay open before memory is read (default: 15)
  --chromium P   the Chromium to drive (default: /usr/bin/chromium)
  -h, --help     this help`

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const KiB = 1024

/** VmRSS sampled once a second for `seconds`, averaged. */
async function meanRss (pid: number, seconds: number): Promise<number> {
  let sum = 0
  for (let second = 0; second < seconds; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    sum += memoryOf(pid).rssBytes
  }
  return sum / seconds
}

function mib (bytes: number): string {
  return `${(bytes / KiB / KiB).toFixed(1)} MiB`
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      items: { type: 'string', default: '50' },
      pages: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '15' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    console.log(USAGE)
    return
  }
  const itemCount = Number(values.items)
  const pageCount = Number(values.pages)
  const seconds = Number(values.seconds)

  const root = mkdtempSync(join(tmpdir(), 'evertorrent-bench-page-'))
  const library = join(root, 'library')
  mkdirSync(library)
  for (let index = 0; index < itemCount; index++) {
    const name = `item-${String(index).padStart(3, '0')}`
    if (index % 5 === 0) {
      mkdirSync(join(library, name))
      for (let file = 0; file < 3; file++) writeFileSync(join(library, name, `part-${file}.bin`), Buffer.alloc(64 * KiB, index + file))
    } else {
      writeFileSync(join(library, `${name}.bin`), Buffer.alloc(128 * KiB, index))
    }
  }
  const options = { libraries: [library], stateDir: join(root, 'state') }
  const published = (line: LogLine): boolean => line.msg === 'published'
  // A first run hashes; the measured one resumes from the state folder, without hashing's garbage.
  const first = await ServeProcess.run(options)
  await first.waitForCount(published, itemCount, 120_000).finally(async () => await first.stop())
  const serve = await ServeProcess.run(options)
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined
  // Chromium writes its NSS database and crash reports under $HOME: a home of its own.
  const home = tempHome()
  try {
    await serve.waitForCount(published, itemCount, 120_000)
    const base = `http://127.0.0.1:${serve.httpPort}`

    // Page weight: every asset the page loads, then the data it reads (snapshot + one QR code it may open).
    const weights: Array<[string, number]> = []
    for (const path of STATUS_PAGE_ASSETS) weights.push([path, (await (await fetch(`${base}${path}`)).arrayBuffer()).byteLength])
    const statusResponse = await fetch(`${base}/api/status`)
    const statusText = await statusResponse.text()
    const document = JSON.parse(statusText) as StatusDocument
    const qr = document.items.find((item) => item.links !== undefined)!.links!.qr
    const assetsTotal = weights.reduce((sum, [, bytes]) => sum + bytes, 0)

    // Some upload all along, through the web seed, so the open pages get a delta every second or so;
    // the same load before, so the difference is what the pages add, not what the load does.
    const download = document.items.find((item) => item.links?.download !== undefined)!.links!.download!
    let loading = true
    const load = (async () => {
      while (loading) {
        await (await fetch(`${base}${download}`)).arrayBuffer()
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    })()
    // RSS falls for a while after start-up as V8 gives memory back: let that pass first.
    await new Promise((resolve) => setTimeout(resolve, 2 * seconds * 1000))
    const pid = serve.pid
    const before = await meanRss(pid, seconds)
    browser = await chromium.launch({ executablePath: values.chromium, args: CHROMIUM_ARGS, headless: true, env: home.env })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    for (let index = 0; index < pageCount; index++) {
      const page = await context.newPage()
      await page.goto(base)
      await page.locator('li.item').nth(itemCount - 1).waitFor()
    }
    const withPages = await meanRss(pid, seconds)
    const peak = memoryOf(pid).peakBytes
    await browser.close()
    browser = undefined
    const afterPages = await meanRss(pid, seconds)
    loading = false
    await load

    console.log(`## Status page: weight and server memory (${itemCount} items, ${pageCount} pages open for ${seconds} s, one web seed download every 0.5 s)\n`)
    console.log('| What | Bytes (uncompressed) |')
    console.log('| --- | ---: |')
    for (const [path, bytes] of weights) console.log(`| \`${path}\` | ${bytes} |`)
    console.log(`| **page assets, total** | **${assetsTotal}** |`)
    console.log(`| \`/api/status\` (the snapshot a page gets first) | ${Buffer.byteLength(statusText)} |`)
    console.log(`| one QR code (\`${qr.replace(/[0-9a-f]{40}/, '<infohash>')}\`) | ${(await (await fetch(`${base}${qr}`)).arrayBuffer()).byteLength} |`)
    console.log('')
    console.log('| Server memory | |')
    console.log('| --- | ---: |')
    console.log(`| VmRSS without a page (mean over ${seconds} s) | ${mib(before)} |`)
    console.log(`| VmRSS with ${pageCount} pages open (mean over ${seconds} s) | ${mib(withPages)} |`)
    console.log(`| VmRSS after the pages closed (mean over ${seconds} s) | ${mib(afterPages)} |`)
    console.log(`| added by the pages: with − mean(without, after) | ${mib(withPages - (before + afterPages) / 2)} |`)
    console.log(`| VmHWM (peak since start) | ${mib(peak)} |`)
  } finally {
    await browser?.close()
    home.remove()
    await serve.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
