#!/usr/bin/env python3
"""Decodes a CAR that ledgerd's gateway served, with software others wrote: PyPI's ipfs-car-decoder (on
multiformats and dag-cbor). Checks every block against its CID, and writes the UnixFS tree under the root
to OUT_DIR/NAME with the decoder's own exporter. Prints one JSON line: the header's roots, the blocks'
CIDs in the order they came, and how many were checked.

Usage: car_decode.py CAR_FILE ROOT_CID OUT_DIR NAME
"""
import asyncio, json, sys

import ipfs_car_decoder as car
from multiformats import CID


async def main(path, root, out, name):
    stream = car.FileByteStream(path)
    store = await car.IndexedBlockstore.from_stream(stream)
    order = sorted(store.indexer.mapping.values(), key=lambda index: index.offset)
    for index in order:
        await store.get_block(index.cid)  # raises unless the bytes hash to the CID
    roots = [str(CID.decode(bytes(r)) if not isinstance(r, CID) else r) for r in store.indexer.header["roots"]]
    await car.write_car_filesystem_to_path(root, car.FileByteStream(path), out, name)
    print(json.dumps({"roots": roots, "blocks": [str(index.cid) for index in order], "checked": len(order),
                      "version": store.indexer.header["version"]}))


asyncio.run(main(*sys.argv[1:5]))
