#!/usr/bin/python3
"""A libtorrent leecher on one loopback address that knows one peer and may learn of others by PEX.

usage: lt_pex_leecher.py TORRENT SAVE_DIR --bind IP --peer HOST:PORT [--timeout SECONDS]

The torrent's trackers and web seeds are removed before it is added, and DHT, LSD, UPnP, NAT-PMP and
uTP are off, so the given peer is the only source it is told of; any other peer it meets came through
peer exchange (BEP 11) or connected to it. It listens on IP and connects out from IP, so each leecher
stands for another host. Prints JSON lines on stdout: {"event": "done", "ok": ...} when the download
completed or timed out; it then seeds on until stdin closes (or the timeout), and prints
{"event": "peers", "peers": [...]} with every peer other than the given one it saw: its address, the
sources libtorrent knew it by and the payload bytes received from it (the most seen). Exits 0 when the
download completed.
"""
import argparse
import sys
import threading
import time

import libtorrent as lt

from lt_download import emit, parse_peer


SOURCES = {'tracker': lt.peer_info.tracker, 'dht': lt.peer_info.dht, 'pex': lt.peer_info.pex,
           'lsd': lt.peer_info.lsd, 'resume_data': lt.peer_info.resume_data,
           # libtorrent's peer_source_flags_t::incoming, which the Python binding does not name.
           'incoming': 0x20}


def torrent_without_sources(path):
    with open(path, 'rb') as file:
        meta = lt.bdecode(file.read())
    for key in (b'announce', b'announce-list', b'url-list', b'httpseeds'):
        meta.pop(key, None)
    return lt.torrent_info(meta)


def watch_stdin(closed):
    for _ in sys.stdin:
        pass
    closed.set()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('torrent')
    parser.add_argument('save_dir')
    parser.add_argument('--bind', required=True)
    parser.add_argument('--peer', type=parse_peer, required=True)
    parser.add_argument('--timeout', type=float, default=120.0)
    args = parser.parse_args()

    session = lt.session({
        'listen_interfaces': f'{args.bind}:0',
        'outgoing_interfaces': args.bind,
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'user_agent': 'lt_pex_leecher/' + lt.__version__,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    params = lt.add_torrent_params()
    params.ti = torrent_without_sources(args.torrent)
    params.save_path = args.save_dir
    handle = session.add_torrent(params)
    handle.connect_peer(args.peer)

    stdin_closed = threading.Event()
    threading.Thread(target=watch_stdin, args=(stdin_closed,), daemon=True).start()
    seen = {}
    started = time.monotonic()
    last_connect = started
    finished = False
    reported = False
    while time.monotonic() - started < args.timeout:
        session.wait_for_alert(200)
        session.pop_alerts()
        now = time.monotonic()
        for info in handle.get_peer_info():
            ip, port = info.ip
            if (ip, port) == args.peer:
                continue
            entry = seen.setdefault(ip, {'ip': ip, 'ports': [], 'sources': [], 'total_download': 0})
            if port not in entry['ports']:
                entry['ports'].append(port)
            for name, bit in SOURCES.items():
                if info.source & bit and name not in entry['sources']:
                    entry['sources'].append(name)
            entry['total_download'] = max(entry['total_download'], info.total_download)
        status = handle.status()
        finished = finished or (status.progress >= 1 and (status.is_seeding or status.is_finished))
        if finished and not reported:
            reported = True
            emit({'event': 'done', 'ok': True, 'seconds': now - started, 'payload_bytes': status.total_payload_download})
        if reported and stdin_closed.is_set():
            break
        # The given peer is dialled again if it dropped us.
        if not finished and status.num_peers == 0 and now - last_connect > 2:
            handle.connect_peer(args.peer)
            last_connect = now
    if not reported:
        emit({'event': 'done', 'ok': False, 'seconds': time.monotonic() - started, 'payload_bytes': handle.status().total_payload_download})
    emit({'event': 'peers', 'peers': list(seen.values())})
    session.remove_torrent(handle)
    return 0 if finished else 1


if __name__ == '__main__':
    sys.exit(main())
