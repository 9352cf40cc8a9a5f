"""An independent libp2p peer (py-libp2p) that checks ledgerd speaks libp2p: it connects to a ledgerd
node, runs identify, ping, kad-dht FIND_NODE and GET_PROVIDERS against it with py-libp2p's own protobuf
definitions, then waits for ledgerd to dial it back. Prints one JSON line per step; exits 1 on failure.

usage: py_peer.py LEDGERD_MULTIADDR FIND_PEER_ID PROVIDER_KEY_HEX EXPECTED_PROVIDER_ID [ed25519|rsa]

With `rsa` the peer's identity is a fresh 2,048-bit RSA key (as Kubo's default identities are), so its
peer ID is a SHA-256 multihash (`Qm…`) rather than an inlined key.
"""
import json
import os
import secrets
import sys

import multiaddr
import trio
from libp2p import new_host
from libp2p.custom_types import TProtocol
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.kad_dht.pb.kademlia_pb2 import Message
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr


def say(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


async def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = await stream.read(n - len(data))
        if not chunk:
            raise EOFError(f"stream ended after {len(data)} of {n} bytes")
        data += chunk
    return data


async def read_message(stream):
    length, shift = 0, 0
    while True:
        byte = (await read_exactly(stream, 1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    return await read_exactly(stream, length)


async def kad_request(host, peer, message):
    stream = await host.new_stream(peer, [TProtocol("/ipfs/kad/1.0.0")])
    body = message.SerializeToString()
    await stream.write(uvarint(len(body)) + body)
    reply = Message()
    reply.ParseFromString(await read_message(stream))
    await stream.close()
    return reply


async def main(target, find_peer, provider_key_hex, expected_provider, key_type="ed25519"):
    if key_type == "rsa":
        from libp2p.crypto.rsa import create_new_key_pair
        host = new_host(key_pair=create_new_key_pair(2048))
    else:
        host = new_host()
    say("identity", key_type=key_type, peer=host.get_id().pretty())
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        info = info_from_p2p_addr(multiaddr.Multiaddr(target))
        await host.connect(info)
        say("connected", peer=info.peer_id.pretty())

        stream = await host.new_stream(info.peer_id, [TProtocol("/ipfs/id/1.0.0")])
        identify = Identify()
        identify.ParseFromString(await read_message(stream))
        await stream.close()
        from libp2p.crypto.serialization import deserialize_public_key
        key_id = ID.from_pubkey(deserialize_public_key(identify.public_key))
        assert key_id == info.peer_id, f"identify key gives {key_id.pretty()}"
        assert "/ipfs/kad/1.0.0" in identify.protocols, identify.protocols
        say("identify", agent=identify.agent_version, protocols=list(identify.protocols),
            listen=[str(multiaddr.Multiaddr(a)) for a in identify.listen_addrs])

        stream = await host.new_stream(info.peer_id, [TProtocol("/ipfs/ping/1.0.0")])
        for _ in range(3):
            payload = secrets.token_bytes(32)
            await stream.write(payload)
            assert await read_exactly(stream, 32) == payload, "ping echo differs"
        await stream.close()
        say("ping", rounds=3)

        request = Message()
        request.type = Message.MessageType.FIND_NODE
        request.key = ID.from_base58(find_peer).to_bytes()
        reply = await kad_request(host, info.peer_id, request)
        closer = {ID(p.id).pretty(): [str(multiaddr.Multiaddr(a)) for a in p.addrs] for p in reply.closerPeers}
        assert find_peer in closer and closer[find_peer], f"FIND_NODE did not name {find_peer}: {closer}"
        say("find_node", closer=closer)

        request = Message()
        request.type = Message.MessageType.GET_PROVIDERS
        request.key = bytes.fromhex(provider_key_hex)
        reply = await kad_request(host, info.peer_id, request)
        providers = [ID(p.id).pretty() for p in reply.providerPeers]
        assert expected_provider in providers, f"GET_PROVIDERS gave {providers}"
        say("get_providers", providers=providers)

        # Now ledgerd dials us: the test reads our address and runs `ledgerctl swarm connect`.
        await host.disconnect(info.peer_id)
        addr = next(str(a) for a in host.get_addrs() if "127.0.0.1" in str(a))
        say("listening", address=addr if "/p2p/" in addr else f"{addr}/p2p/{host.get_id().pretty()}")
        with trio.move_on_after(30):
            while info.peer_id not in host.get_network().connections:
                await trio.sleep(0.1)
        assert info.peer_id in host.get_network().connections, "ledgerd did not dial us"
        # Prove the dialed connection carries streams both ways.
        stream = await host.new_stream(info.peer_id, [TProtocol("/ipfs/ping/1.0.0")])
        payload = secrets.token_bytes(32)
        await stream.write(payload)
        assert await read_exactly(stream, 32) == payload
        await stream.close()
        say("dialed_by_ledgerd", peer=info.peer_id.pretty())


if __name__ == "__main__":
    try:
        trio.run(main, *sys.argv[1:6])
    except Exception as error:  # one line for the test's failure message
        say("error", message=f"{type(error).__name__}: {error}")
        sys.exit(1)
