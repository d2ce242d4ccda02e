"""Downloads one torrent with libtorrent under a given encryption policy, and reports how its peers spoke.

usage: lt_encryption.py --torrent FILE --save DIR --encryption (forced|disabled) [--peer HOST:PORT]
                        [--never-dial] --seconds N
forced: MSE with RC4 only, both ways (out/in_enc_policy pe_forced, allowed_enc_level rc4);
disabled: plaintext only (pe_disabled). --never-dial: libtorrent makes no outgoing peer connection
(connection_speed and torrent_connect_boost 0; trackers are still announced to), so a peer reaches it only by dialling it. stdout: one JSON line,
{"event": "done", "ok", "seconds", "bytes_received", "peers": [{"rc4", "incoming"}...]}, once the download is
complete or N seconds have passed; exit 0 either way (the driver judges), 1 if stdin closes first.
stderr: libtorrent's alerts.
"""
import argparse
import sys
import time

import libtorrent as lt

from lt_session import emit, log_alerts, loopback_session, parent_gone, unmanaged

POLICIES = {
    'forced': {'out_enc_policy': int(lt.enc_policy.forced), 'in_enc_policy': int(lt.enc_policy.forced),
               'allowed_enc_level': int(lt.enc_level.rc4), 'prefer_rc4': True},
    'disabled': {'out_enc_policy': int(lt.enc_policy.disabled), 'in_enc_policy': int(lt.enc_policy.disabled)},
}


def peer_address(text):
    host, _, port = text.rpartition(':')
    return host.strip('[]'), int(port)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--torrent', required=True)
    parser.add_argument('--save', required=True)
    parser.add_argument('--encryption', choices=sorted(POLICIES), required=True)
    parser.add_argument('--peer', type=peer_address)
    parser.add_argument('--never-dial', action='store_true')
    parser.add_argument('--seconds', type=float, required=True)
    args = parser.parse_args()

    settings = dict(POLICIES[args.encryption])
    if args.never_dial:
        # libtorrent: connection_speed "0 means don't make outgoing connections at all"; the connect boost
        # on the first tracker reply bypasses it, so that goes too.
        settings.update({'connection_speed': 0, 'torrent_connect_boost': 0})
    session = loopback_session(settings)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(unmanaged(params))

    peers = {}
    stdin_closed = parent_gone()
    started = time.monotonic()
    deadline = started + args.seconds
    last_dial = 0.0
    finished = False
    while time.monotonic() < deadline:
        session.wait_for_alert(50)
        log_alerts(session)
        if stdin_closed.is_set():
            return 1
        for peer in handle.get_peer_info():
            if peer.flags & (lt.peer_info.handshake | lt.peer_info.connecting):
                continue
            key = f'{peer.ip[0]}:{peer.ip[1]}'
            peers[key] = {'rc4': bool(peer.flags & lt.peer_info.rc4_encrypted),
                          'incoming': not (peer.flags & lt.peer_info.outgoing_connection)}
        status = handle.status()
        if status.is_seeding:
            finished = True
            break
        if args.peer is not None and status.num_peers == 0 and time.monotonic() - last_dial > 2:
            handle.connect_peer(args.peer)
            last_dial = time.monotonic()
    elapsed = time.monotonic() - started

    status = handle.status()
    session.remove_torrent(handle)
    del handle, session
    emit('done', ok=finished, seconds=elapsed, bytes_received=status.total_download, peers=list(peers.values()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
