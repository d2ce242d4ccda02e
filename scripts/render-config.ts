// Writes config/evertorrent.toml, the appliance's config file, from the settings table. Run after
// changing a setting: node dist/scripts/render-config.js (test/system/shipped-config.test.ts fails
// while the committed file differs from what this writes).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderApplianceConfig } from '../appliance/system/appliance-config.js'

const target = fileURLToPath(new URL('../../config/evertorrent.toml', import.meta.url))
writeFileSync(target, renderApplianceConfig())
process.stdout.write(`wrote ${target}\n`)
