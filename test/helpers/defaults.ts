import { defaultSettings } from '../../appliance/config/settings.js'

/**
 * The settings table's defaults, which tests build engines from as the service does (through each
 * engine's `optionsFrom`), so no default is written a second time; `home` and `hostname` are
 * placeholders no engine reads.
 */
export const DEFAULTS = defaultSettings({ home: '/nonexistent', hostname: 'test-box', stateHome: '/nonexistent' })
