import { renderConfigFile } from './config-file.js'
import type { Settings, SettingsEnvironment } from './settings.js'

/**
 * The Raspberry Pi image's environment: the service user `evertorrent` has its home in the state
 * directory (image/deb/sysusers.conf), which systemd creates as /var/lib/evertorrent.
 */
export const APPLIANCE_ENVIRONMENT: SettingsEnvironment = {
  home: '/var/lib/evertorrent',
  hostname: 'evertorrent',
  stateHome: '/var/lib'
}

/**
 * What the appliance sets on top of the defaults: drives mounted under the media root are the
 * libraries (config/99-evertorrent-usb.rules and evertorrent-mount), eject stops a drive's mount unit
 * (allowed by config/50-evertorrent.rules), the status page is on port 80 (evertorrent.service grants
 * CAP_NET_BIND_SERVICE for it), the state lives in the unit's StateDirectory, URLs name the box by its
 * mDNS name (avahi), and the status LED is the Pi's own ACT LED until another is wired.
 */
export const APPLIANCE_SETTINGS: Partial<Settings> = {
  'library.folders': [],
  'library.media_root': '/media/evertorrent',
  'library.eject_command': ['systemctl', 'stop', 'evertorrent-mount@{device}.service'],
  'state.dir': '/var/lib/evertorrent',
  'network.announce_host': '{hostname}.local',
  'http.port': 80,
  'leds.driver': 'sysfs-led',
  'leds.device': 'ACT'
}

/** config/evertorrent.toml, installed as /etc/evertorrent/config.toml. */
export function renderApplianceConfig (): string {
  return renderConfigFile(APPLIANCE_ENVIRONMENT, APPLIANCE_SETTINGS)
}
