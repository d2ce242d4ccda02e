"""python3-libtorrent's view of BEP 52 torrents, as JSON on stdout.

  lt_create.py inspect TORRENT                  -> {"v1": hex or null, "v2": hex or null, "files": [...]}
  lt_create.py create PATH PIECE_LENGTH FORMAT  -> {"info": hex of the bencoded info dictionary}

`create` makes the torrent as a libtorrent 2.0 client does (create_torrent with its default
layout, FORMAT "v1", "hybrid" or "v2"), hashing PATH's content; with a fourth argument OUTPUT it
writes the .torrent there instead of printing the info dictionary (scripts/bench-create-formats.ts).
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


FLAGS = {"v1": lt.create_torrent.v1_only, "hybrid": 0, "v2": lt.create_torrent.v2_only}


def create(path, piece_length, fmt, output=None):
    storage = lt.file_storage()
    lt.add_files(storage, path)
    torrent = lt.create_torrent(storage, piece_length, FLAGS[fmt])
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(path)))
    generated = torrent.generate()
    if output is None:
        print(json.dumps({"info": lt.bencode(generated[b"info"]).hex()}))
    else:
        with open(output, "wb") as torrent_file:
            torrent_file.write(lt.bencode(generated))


if sys.argv[1] == "inspect":
    inspect(sys.argv[2])
else:
    create(sys.argv[2], int(sys.argv[3]), sys.argv[4], *sys.argv[5:6])
