// Writes config/evertorrent.toml (the appliance's config file) and docs/limits.md (the table of
// every bound) from the settings table. Run after changing a setting: node dist/scripts/render-config.js
// (test/config/shipped-config.test.ts fails while a committed file differs from what this writes).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { APPLIANCE_ENVIRONMENT, renderApplianceConfig } from '../appliance/config/appliance-config.js'
import { renderLimitsTable } from '../appliance/limits-table.js'

for (const [path, text] of [
  ['../../config/evertorrent.toml', renderApplianceConfig()],
  ['../../docs/limits.md', renderLimitsTable(APPLIANCE_ENVIRONMENT)]
] as const) {
  const target = fileURLToPath(new URL(path, import.meta.url))
  writeFileSync(target, text)
  process.stdout.write(`wrote ${target}\n`)
}
