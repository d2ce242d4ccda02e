"""Joins a torrent's swarm with python3-libtorrent, bound to one local address, and reports as JSON
lines what its trackers said and which peers it connected to. Runs until killed or `seconds` pass.

usage: libtorrent-announce.py TORRENT SAVE_PATH LOCAL_ADDRESS SECONDS
"""
import json
import sys
import time

import libtorrent as lt

torrent, save_path, local_address, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

session = lt.session({
    'listen_interfaces': f'{local_address}:0',
    'outgoing_interfaces': local_address,
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'alert_mask': lt.alert.category_t.all_categories,
})
session.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save_path})


def report(**fields):
    print(json.dumps(fields), flush=True)


deadline = time.time() + seconds
while time.time() < deadline:
    session.wait_for_alert(200)
    for alert in session.pop_alerts():
        if isinstance(alert, lt.tracker_reply_alert):
            report(type='tracker_reply', url=alert.tracker_url(), peers=alert.num_peers, message=alert.message())
        elif isinstance(alert, lt.tracker_error_alert):
            report(type='tracker_error', url=alert.tracker_url(), message=alert.message())
        elif isinstance(alert, lt.peer_connect_alert):
            report(type='peer_connect', ip=alert.endpoint[0], port=alert.endpoint[1])
