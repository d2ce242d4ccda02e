#!/usr/bin/python3
"""Download one torrent with libtorrent from the peers given (or found in the DHT given), and nothing else.

usage: lt_download.py SOURCE SAVE_DIR [--peer HOST:PORT ...] [--dht-bootstrap HOST:PORT]
                      [--timeout SECONDS] [--listen ADDRESS] [--no-web-seeds] [--plaintext]

SOURCE is a .torrent file or a magnet URI (BEP 9: the metadata then comes from the peers).
LSD, UPnP, NAT-PMP and uTP are off and libtorrent listens on 127.0.0.1 only (or --listen), so the
given peers (and the torrent's own trackers, if any; its web seeds unless --no-web-seeds) are the
only sources. With --plaintext, MSE/PE is off both ways (libtorrent's default tries RC4 first), so a
benchmark compares seeders on the plain peer wire. The DHT is off, unless --dht-bootstrap names the one node it joins through: then
SOURCE must be a magnet link with no tracker, so the DHT is the only way to a seed. libtorrent
refuses, by default, more than one DHT node per /24 in its routing table and in a search, and
prefers node ids derived from the node's address (BEP 42): test nodes that all sit on 127.0.0.x need
those checks off. Prints one JSON object per line on stdout: {"event": "progress", ...} about once
a second, then {"event": "done", ...} with "ok", the elapsed seconds, the file list, the hash
failures, the peers it connected to and (with the DHT) the DHT nodes it knew. Exits 0 when the
download completed, 1 when it did not (timeout or error), 2 on bad arguments.
"""
import argparse
import json
import sys
import time

import libtorrent as lt


def parse_peer(text):
    host, _, port = text.rpartition(':')
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f'peer "{text}" is not HOST:PORT')
    return host.strip('[]'), int(port)


def emit(obj):
    print(json.dumps(obj), flush=True)


def make_session(listen, dht_bootstrap=None, plaintext=False):
    settings = {
        'listen_interfaces': f'{listen}:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'user_agent': 'lt_download/' + lt.__version__,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification | lt.alert.category_t.connect_notification,
    }
    if plaintext:
        settings.update({'out_enc_policy': lt.enc_policy.disabled, 'in_enc_policy': lt.enc_policy.disabled})
    if dht_bootstrap is not None:
        host, port = dht_bootstrap
        settings.update({
            'enable_dht': True,
            'dht_bootstrap_nodes': f'{host}:{port}',
            'dht_restrict_routing_ips': False,
            'dht_restrict_search_ips': False,
            'dht_prefer_verified_node_ids': False,
            'dht_enforce_node_id': False,
            'dht_ignore_dark_internet': False,
        })
    return lt.session(settings)


def add(session, source, save_dir):
    if source.startswith('magnet:'):
        params = lt.parse_magnet_uri(source)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(source)
    params.save_path = save_dir
    return session.add_torrent(params)


def files_of(handle):
    info = handle.torrent_file()
    if info is None:
        return []
    files = info.files()
    return [{'path': files.file_path(i), 'size': files.file_size(i)} for i in range(files.num_files())]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source')
    parser.add_argument('save_dir')
    parser.add_argument('--peer', type=parse_peer, action='append', default=[])
    parser.add_argument('--dht-bootstrap', type=parse_peer)
    parser.add_argument('--timeout', type=float, default=60.0)
    parser.add_argument('--listen', default='127.0.0.1')
    parser.add_argument('--no-web-seeds', action='store_true')
    parser.add_argument('--plaintext', action='store_true')
    args = parser.parse_args()
    dht = args.dht_bootstrap is not None
    if dht and (not args.source.startswith('magnet:') or lt.parse_magnet_uri(args.source).trackers):
        parser.error('with --dht-bootstrap, SOURCE must be a magnet link without trackers: the DHT alone finds the peers')

    session = make_session(args.listen, args.dht_bootstrap, args.plaintext)
    handle = add(session, args.source, args.save_dir)
    if args.no_web_seeds:
        for url in handle.url_seeds():
            handle.remove_url_seed(url)
    for peer in args.peer:
        handle.connect_peer(peer)

    started = time.monotonic()
    last_report = 0.0
    last_retry = started
    hash_failures = 0
    errors = []
    peers_seen = set()
    finished = False
    while time.monotonic() - started < args.timeout:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.hash_failed_alert):
                hash_failures += 1
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert, lt.metadata_failed_alert)):
                errors.append(alert.message())
            elif isinstance(alert, lt.peer_connect_alert):
                endpoint = getattr(alert, 'endpoint', None) or alert.ip
                peers_seen.add(f'{endpoint[0]}:{endpoint[1]}')
        peers_seen.update(f'{peer.ip[0]}:{peer.ip[1]}' for peer in handle.get_peer_info())
        status = handle.status()
        now = time.monotonic()
        if status.has_metadata and status.progress >= 1 and (status.is_seeding or status.is_finished):
            finished = True
            break
        # A peer that dropped us (or refused an encrypted first attempt) is dialled again; with the DHT,
        # the torrent is looked up again: its first lookup can come before the DHT has bootstrapped on a
        # busy machine, and the next would be a dht_announce_interval later.
        if status.num_peers == 0 and now - last_retry > (5 if dht else 2):
            if dht:
                handle.force_dht_announce()
            for peer in args.peer:
                handle.connect_peer(peer)
            last_retry = now
        if now - last_report >= 1:
            last_report = now
            emit({'event': 'progress', 'state': str(status.state), 'progress': status.progress,
                  'downloaded': status.total_wanted_done, 'rate': status.download_rate,
                  'peers': status.num_peers, 'has_metadata': status.has_metadata,
                  **({'dht_nodes': session.status().dht_nodes} if dht else {})})

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
          'downloaded': status.total_wanted_done, 'payload_bytes': status.total_payload_download,
          'rate': status.total_wanted / elapsed if finished and elapsed > 0 else 0,
          'hash_failures': hash_failures, 'errors': errors, 'files': files, 'peers': sorted(peers_seen),
          **({'dht_nodes': dht_nodes} if dht else {})})
    return 0 if finished else 1


if __name__ == '__main__':
    sys.exit(main())
