"""Downloads one torrent with libtorrent on 127.0.0.1, then exits.

usage: lt_client.py (--torrent FILE | --magnet URI) --save DIR
stdout: JSON lines, {"event": "status", ...} every half second, then {"event": "done", ...} once the
content is complete and the session has closed its files (exit code 0). Exits 1 if stdin closes first.
stderr: libtorrent's alerts.
"""
import argparse
import sys

import libtorrent as lt

from lt_session import emit, log_alerts, loopback_session, parent_gone, unmanaged


def main():
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--torrent')
    source.add_argument('--magnet')
    parser.add_argument('--save', required=True)
    args = parser.parse_args()

    session = loopback_session()
    params = lt.parse_magnet_uri(args.magnet) if args.magnet else lt.add_torrent_params()
    if args.torrent:
        params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(unmanaged(params))

    stdin_closed = parent_gone()
    while True:
        session.wait_for_alert(500)
        log_alerts(session)
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
    emit('done', name=name, infohash=info_hash, bytes=total)
    return 0


if __name__ == '__main__':
    sys.exit(main())
