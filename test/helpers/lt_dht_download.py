#!/usr/bin/python3
"""Download one torrent with libtorrent, finding its peers through the DHT alone.

usage: lt_dht_download.py MAGNET SAVE_DIR --bootstrap HOST:PORT --listen ADDRESS [--timeout SECONDS]

libtorrent's DHT is on and bootstrapped only from the node given; LSD, UPnP, NAT-PMP and uTP are off,
and the magnet link is expected to carry no tracker, so the DHT is the only way to the seed.
libtorrent listens (TCP and its DHT's UDP) on ADDRESS only. libtorrent refuses, by default, more
than one DHT node per /24 in its routing table and in a search, and prefers node ids derived from
the node's address (BEP 42): nodes that all sit on 127.0.0.x need those checks off. Prints JSON
lines like lt_download.py: progress about once a second, then "done" with "ok", the DHT nodes it
knew and the peers it connected to. Exits 0 when the download completed, 1 when not, 2 on bad arguments.
"""
import argparse
import sys
import time

import libtorrent as lt

from lt_download import emit, files_of, parse_peer


def make_session(listen, bootstrap):
    host, port = bootstrap
    return lt.session({
        'listen_interfaces': f'{listen}:0',
        'enable_dht': True,
        'dht_bootstrap_nodes': f'{host}:{port}',
        'dht_restrict_routing_ips': False,
        'dht_restrict_search_ips': False,
        'dht_prefer_verified_node_ids': False,
        'dht_enforce_node_id': False,
        'dht_ignore_dark_internet': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'user_agent': 'lt_dht_download/' + lt.__version__,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification | lt.alert.category_t.dht_notification,
    })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('magnet')
    parser.add_argument('save_dir')
    parser.add_argument('--bootstrap', type=parse_peer, required=True)
    parser.add_argument('--listen', required=True)
    parser.add_argument('--timeout', type=float, default=90.0)
    args = parser.parse_args()
    if not args.magnet.startswith('magnet:'):
        parser.error('MAGNET must be a magnet URI')

    session = make_session(args.listen, args.bootstrap)
    params = lt.parse_magnet_uri(args.magnet)
    if params.trackers:
        parser.error('the magnet link names trackers: this download must find its peers through the DHT alone')
    params.save_path = args.save_dir
    handle = session.add_torrent(params)

    started = time.monotonic()
    last_report = 0.0
    last_lookup = started
    hash_failures = 0
    errors = []
    peers = set()
    finished = False
    while time.monotonic() - started < args.timeout:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.hash_failed_alert):
                hash_failures += 1
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert, lt.metadata_failed_alert)):
                errors.append(alert.message())
        for peer in handle.get_peer_info():
            peers.add(f'{peer.ip[0]}:{peer.ip[1]}')
        status = handle.status()
        if status.has_metadata and status.progress >= 1 and (status.is_seeding or status.is_finished):
            finished = True
            break
        now = time.monotonic()
        # libtorrent looks a torrent up once its DHT has bootstrapped; on a busy machine that first
        # lookup can come before, and the next would be a dht_announce_interval later.
        if status.num_peers == 0 and now - last_lookup > 5:
            handle.force_dht_announce()
            last_lookup = now
        if now - last_report >= 1:
            last_report = now
            emit({'event': 'progress', 'state': str(status.state), 'progress': status.progress,
                  'peers': status.num_peers, 'has_metadata': status.has_metadata,
                  'dht_nodes': session.status().dht_nodes})

    elapsed = time.monotonic() - started
    status = handle.status()
    files = files_of(handle)
    dht_nodes = session.status().dht_nodes
    session.remove_torrent(handle)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        session.wait_for_alert(200)
        if any(isinstance(alert, lt.torrent_removed_alert) for alert in session.pop_alerts()):
            break
    emit({'event': 'done', 'ok': finished, 'seconds': elapsed, 'total_size': status.total_wanted,
          'downloaded': status.total_wanted_done, 'hash_failures': hash_failures, 'errors': errors,
          'files': files, 'dht_nodes': dht_nodes, 'peers': sorted(peers)})
    return 0 if finished else 1


if __name__ == '__main__':
    sys.exit(main())
