#!/usr/bin/python3
"""What libtorrent makes of a .torrent, as one JSON object on stdout.

Usage: /usr/bin/python3 inspect-torrent.py TORRENT [SAVE_PATH]

With SAVE_PATH (the folder holding the torrent's file or top folder), libtorrent also checks the
data there and reports how many pieces it verified. No network: the session listens on loopback
only, with DHT, LSD, UPnP and NAT-PMP off, in upload mode so it never writes to the data.
"""
import json
import sys
import time

import libtorrent as lt

CHECK_TIMEOUT_SECONDS = 120


def describe(ti):
    files = ti.files()
    tiers = {}
    for tracker in ti.trackers():
        tiers.setdefault(tracker.tier, []).append(tracker.url)
    return {
        'info_hash': str(ti.info_hashes().v1),
        'name': ti.name(),
        'total_size': ti.total_size(),
        'piece_length': ti.piece_length(),
        'num_pieces': ti.num_pieces(),
        'files': [
            {
                'path': files.file_path(index).replace('\\', '/'),
                'size': files.file_size(index),
                'pad': bool(files.file_flags(index) & lt.file_storage.flag_pad_file),
            }
            for index in range(files.num_files())
        ],
        'announce_tiers': [tiers[tier] for tier in sorted(tiers)],
        'url_seeds': [seed['url'] for seed in ti.web_seeds() if seed['type'] == 0],
        'http_seeds': [seed['url'] for seed in ti.web_seeds() if seed['type'] != 0],
        'private': ti.priv(),
        'comment': ti.comment(),
        'creator': ti.creator(),
    }


def verify(ti, save_path):
    session = lt.session({
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'alert_mask': lt.alert_category.status | lt.alert_category.error | lt.alert_category.storage,
    })
    params = lt.add_torrent_params()
    params.ti = ti
    params.save_path = save_path
    # Neither paused nor auto-managed: the check starts at once.
    params.flags = lt.torrent_flags.upload_mode
    handle = session.add_torrent(params)
    errors = []
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS
    checked = False
    while not checked and time.monotonic() < deadline:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.torrent_checked_alert):
                checked = True
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert, lt.fastresume_rejected_alert)):
                errors.append(alert.message())
    status = handle.status()
    report = {
        'checked': checked,
        'state': str(status.state).split('.')[-1],
        'progress': status.progress,
        'pieces_verified': sum(1 for have in status.pieces if have),
        'errors': errors,
    }
    session.remove_torrent(handle)
    return report


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    ti = lt.torrent_info(argv[1])
    report = describe(ti)
    if len(argv) == 3:
        report['check'] = verify(ti, argv[2])
    json.dump(report, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
