"""Seeds torrents from libtorrent on 127.0.0.1 until stdin closes (the parent is gone) or SIGTERM.

usage: lt_seed.py --seed TORRENT_FILE SAVE_DIR [--seed ...] [--seed-mode] [--plaintext]
--seed-mode: libtorrent's seed_mode, no check of the files at start (each piece is hashed when first
requested), as a seeding benchmark's peer; --plaintext: MSE/PE off both ways.
stdout: one JSON line {"event": "ready", "port": N} once every torrent is checked and seeding; a torrent
whose data does not match ends the script with {"event": "error", ...} and exit code 1.
stderr: libtorrent's alerts.
"""
import argparse
import sys
import time

import libtorrent as lt

from lt_session import emit, log_alerts, loopback_session, parent_gone, unmanaged

# Transmission 3.00 never dials 127.0.0.0/8, so on loopback the seed must dial it: announcing every second
# (whatever interval the tracker asks for) tells the seed about each new leecher at once.
ANNOUNCE_SECONDS = 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seed', nargs=2, action='append', required=True, metavar=('TORRENT_FILE', 'SAVE_DIR'))
    parser.add_argument('--seed-mode', action='store_true')
    parser.add_argument('--plaintext', action='store_true')
    args = parser.parse_args()

    settings = {
        'enable_outgoing_utp': False,
        'unchoke_slots_limit': -1,
        # A transmission that drops the seed's connection (while it checks a magnet's files, say) is
        # dialled again a second later, not a minute later.
        'min_reconnect_time': 1,
    }
    if args.plaintext:
        settings.update({'out_enc_policy': lt.enc_policy.disabled, 'in_enc_policy': lt.enc_policy.disabled})
    session = loopback_session(settings)
    handles = []
    for torrent_file, save_dir in args.seed:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent_file)
        params.save_path = save_dir
        if args.seed_mode:
            params.flags |= lt.torrent_flags.seed_mode
        handles.append(session.add_torrent(unmanaged(params)))

    stdin_closed = parent_gone()

    ready = False
    last_announce = time.monotonic()
    while not stdin_closed.is_set():
        session.wait_for_alert(200)
        log_alerts(session, quiet=('tracker_announce', 'tracker_reply'))
        if time.monotonic() - last_announce >= ANNOUNCE_SECONDS:
            for handle in handles:
                handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            last_announce = time.monotonic()
        if ready:
            continue
        statuses = [handle.status() for handle in handles]
        checking = [s for s in statuses if s.state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)]
        if checking:
            continue
        broken = [s for s in statuses if not s.is_seeding]
        if broken:
            s = broken[0]
            emit('error', message=f'{s.name}: the data does not match the torrent ({s.num_pieces} of {s.torrent_file.num_pieces()} pieces verified)')
            sys.exit(1)
        emit('ready', port=session.listen_port())
        ready = True


if __name__ == '__main__':
    main()
