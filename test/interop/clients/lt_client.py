"""Downloads one torrent with libtorrent on 127.0.0.1, then exits.

usage: lt_client.py (--torrent FILE | --magnet URI) --save DIR [--wire-report]
stdout: JSON lines, {"event": "status", ...} every half second, then {"event": "done", ...} once the
content is complete and the session has closed its files (exit code 0). Exits 1 if stdin closes first.
With --wire-report, "done" also counts what libtorrent's peer log saw of the BEP 52 wire: handshakes
with the v2 bit, hash requests sent, hashes and hash rejects received, and pieces that failed their hash.
stderr: libtorrent's alerts (of the peer log, the BEP 52 ones only).
"""
import argparse
import re
import sys

import libtorrent as lt

from lt_session import ALERTS, emit, loopback_session, parent_gone, unmanaged


def count_wire(alert, wire):
    """libtorrent logs each message as '<==' (received) or '==>' (sent), its name, and for a handshake the reserved bits it read."""
    message = alert.message()
    if alert.what() == 'hash_failed':
        wire['hash_failures'] += 1
    if alert.what() != 'peer_log':
        return
    if re.search(r'<== EXTENSIONS .*\bv2 ', message):
        wire['v2_handshakes'] += 1
    if '==> HASH_REQUEST' in message:
        wire['hash_requests_sent'] += 1
    if '<== HASHES' in message:
        wire['hashes_received'] += 1
    if '<== HASH_REJECT' in message:
        wire['hash_rejects_received'] += 1


def main():
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--torrent')
    source.add_argument('--magnet')
    parser.add_argument('--save', required=True)
    parser.add_argument('--wire-report', action='store_true')
    args = parser.parse_args()

    session = loopback_session({'alert_mask': ALERTS | lt.alert_category.peer_log} if args.wire_report else None)
    wire = {'v2_handshakes': 0, 'hash_requests_sent': 0, 'hashes_received': 0, 'hash_rejects_received': 0, 'hash_failures': 0}
    params = lt.parse_magnet_uri(args.magnet) if args.magnet else lt.add_torrent_params()
    if args.torrent:
        params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(unmanaged(params))

    stdin_closed = parent_gone()
    while True:
        session.wait_for_alert(500)
        for alert in session.pop_alerts():
            count_wire(alert, wire)
            if alert.what() != 'peer_log' or re.search(r'HASH|EXTENSIONS', alert.message()):
                print(f'{alert.what()}: {alert.message()}', file=sys.stderr, flush=True)
        status = handle.status()
        if status.has_metadata and status.is_seeding:
            break
        if stdin_closed.is_set():
            return 1
        emit('status', state=str(status.state), progress=status.progress, peers=status.num_peers, seeds=status.num_seeds,
             has_metadata=status.has_metadata, error=str(status.errc.message()) if status.errc.value() else None)

    name, info_hash, total = status.name, str(status.info_hashes.v1), status.total_wanted
    session.remove_torrent(handle)
    # The session's destructor waits for the disk threads: after it, every byte is in the files.
    del handle, session
    emit('done', name=name, infohash=info_hash, bytes=total, **(wire if args.wire_report else {}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
