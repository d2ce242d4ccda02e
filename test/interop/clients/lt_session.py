"""A libtorrent session that stays on loopback and finds peers through trackers only.

Shared by lt_client.py (a downloader) and lt_seed.py (the stand-in seed). Run with /usr/bin/python3:
python3-libtorrent is a Debian package, invisible to other Pythons on PATH.
"""
import json
import sys
import threading
from datetime import datetime

import libtorrent as lt

ALERTS = (lt.alert_category.error | lt.alert_category.status | lt.alert_category.tracker
          | lt.alert_category.connect | lt.alert_category.storage)


def loopback_session(extra_settings=None):
    settings = {
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_ip_notifier': False,
        # Every peer of a loopback swarm is 127.0.0.1; by default libtorrent keeps one peer per address.
        'allow_multiple_connections_per_ip': True,
        # TCP only: the everseed speaks no uTP, so uTP would only join the test's own downloaders, and
        # Debian's libtorrent 2.0.8 crashes in its uTP code under such a crowd (SIGSEGV in the
        # 20-downloader test; libtorrent issue 7277 reports the same crash in utp_socket_impl::send_pkt).
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'alert_mask': ALERTS,
    }
    settings.update(extra_settings or {})
    # Flags 0: none of the default plugins, so ut_pex is never loaded. ut_metadata (BEP 9) serves magnets.
    session = lt.session(settings, 0)
    session.add_extension('ut_metadata')
    session.add_extension('smart_ban')
    return session


def unmanaged(params):
    """Starts the torrent now, outside libtorrent's queue (which would run only a few at a time)."""
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    return params


def log_alerts(session, quiet=()):
    for alert in session.pop_alerts():
        if alert.what() not in quiet:
            print(f'{datetime.now().time()} {alert.what()}: {alert.message()}', file=sys.stderr, flush=True)


def parent_gone():
    """An event set once stdin closes: the Node driver keeps it open while it lives, so the script dies with it."""
    gone = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), gone.set()), daemon=True).start()
    return gone


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)
