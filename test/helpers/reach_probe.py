#!/usr/bin/python3
"""Knock on the box's ports from outside, as an internet client would, and say what answered.

usage: reach_probe.py HOST TRACKER_PORT PEER_PORT INFOHASH_HEX

Prints one JSON object: "scrape" (HTTP status and the first bytes of an HTTP /scrape of the
tracker), "udp_connect" (whether a BEP 15 connect request got its connect response) and
"handshake" (the infohash in the BitTorrent handshake the peer port answered with, BEP 3), each
null when nothing answered within 5 seconds. Exits 0.
"""
import json
import os
import socket
import struct
import sys
import urllib.request

host, tracker_port, peer_port, info_hash = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
result = {}

try:
    with urllib.request.urlopen(f'http://{host}:{tracker_port}/scrape', timeout=5) as response:
        result['scrape'] = {'status': response.status, 'body': response.read(64).decode('latin1')}
except Exception as error:
    result['scrape'] = None
    result['scrape_error'] = str(error)

try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(5)
    transaction = os.urandom(4)
    udp.sendto(struct.pack('>QI', 0x41727101980, 0) + transaction, (host, tracker_port))
    answer, _ = udp.recvfrom(64)
    result['udp_connect'] = len(answer) >= 16 and struct.unpack('>I', answer[:4])[0] == 0 and answer[4:8] == transaction
except Exception as error:
    result['udp_connect'] = None
    result['udp_error'] = str(error)

try:
    peer = socket.create_connection((host, peer_port), timeout=5)
    peer.sendall(b'\x13BitTorrent protocol' + bytes(8) + info_hash + b'-RP0001-' + os.urandom(12))
    answer = b''
    while len(answer) < 68:
        chunk = peer.recv(68 - len(answer))
        if not chunk:
            break
        answer += chunk
    result['handshake'] = answer[28:48].hex() if len(answer) >= 48 else None
except Exception as error:
    result['handshake'] = None
    result['handshake_error'] = str(error)

print(json.dumps(result), flush=True)
