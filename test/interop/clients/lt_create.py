"""python3-libtorrent's view of BEP 52 torrents, as JSON on stdout.

  lt_create.py inspect TORRENT                  -> {"v1": hex or null, "v2": hex or null, "files": [...]}
  lt_create.py create PATH PIECE_LENGTH FORMAT  -> {"info": hex of the bencoded info dictionary}

`create` makes the torrent as a libtorrent 2.0 client does (create_torrent with its default
layout, FORMAT "hybrid" or "v2"), hashing PATH's content.
"""
import json
import os
import sys

import libtorrent as lt


def inspect(path):
    info = lt.torrent_info(path)
    hashes = info.info_hashes()
    files = info.files()
    print(json.dumps({
        "v1": str(hashes.v1) if hashes.has_v1() else None,
        "v2": str(hashes.v2) if hashes.has_v2() else None,
        "files": [{"path": files.file_path(i).replace(os.sep, "/"), "size": files.file_size(i),
                   "pad": bool(files.file_flags(i) & lt.file_storage.flag_pad_file)} for i in range(files.num_files())],
    }))


def create(path, piece_length, fmt):
    storage = lt.file_storage()
    lt.add_files(storage, path)
    flags = lt.create_torrent.v2_only if fmt == "v2" else 0
    torrent = lt.create_torrent(storage, piece_length, flags)
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(path)))
    print(json.dumps({"info": lt.bencode(torrent.generate()[b"info"]).hex()}))


if sys.argv[1] == "inspect":
    inspect(sys.argv[2])
else:
    create(sys.argv[2], int(sys.argv[3]), sys.argv[4])
