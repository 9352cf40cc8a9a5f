"""Re-derives specs/vectors/p2p.json from specs/p2p.md with independent libraries: py-libp2p (keys, peer
IDs, protobufs), `multiaddr`, `cryptography` (X25519, ChaCha20-Poly1305, HMAC) for a from-scratch Noise XX,
cbor2 and coincurve (BIP-340) for DHT records. Prints a count of checks; exits 1 on the first mismatch."""
import hashlib
import hmac
import json
import struct
import sys

import cbor2
import coincurve
import multiaddr
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization
from libp2p.crypto.secp256k1 import Secp256k1PrivateKey
from libp2p.crypto.serialization import deserialize_public_key
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.kad_dht.pb.kademlia_pb2 import Message
from libp2p.peer.id import ID

checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"MISMATCH: {what}")
        sys.exit(1)
    checks += 1


def sha(data):
    return hashlib.sha256(data).digest()


def key_from_seed(seed):
    return Secp256k1PrivateKey.new(sha(seed.encode()))


vectors = json.load(open(sys.argv[1]))

# Peer IDs: identity multihash of the secp256k1 PublicKey protobuf; the ledger ID comes from the x coordinate.
for entry in vectors["peer_ids"]:
    private = key_from_seed(entry["secret_key_seed"])
    public = private.get_public_key()
    check(public.to_bytes().hex() == entry["compressed_public_key"], "compressed key")
    check(public.serialize().hex() == entry["key_protobuf"], "key protobuf")
    peer = ID.from_pubkey(public)
    check(peer.to_bytes().hex() == entry["peer_id_hex"], "peer ID bytes")
    check(peer.pretty() == entry["peer_id"], "peer ID text")

for entry in vectors["multiaddrs"]:
    check(multiaddr.Multiaddr(entry["text"]).to_bytes().hex() == entry["bytes"], f"multiaddr {entry['text']}")

# Noise XX, written out from the Noise spec with libp2p's payload.
noise = vectors["noise_xx"]


def hkdf(chaining_key, material):
    temp = hmac.new(chaining_key, material, hashlib.sha256).digest()
    first = hmac.new(temp, b"\x01", hashlib.sha256).digest()
    return first, hmac.new(temp, first + b"\x02", hashlib.sha256).digest()


def nonce(n):
    return b"\x00" * 4 + struct.pack("<Q", n)


def dh(secret, public):
    return X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(public))


def public_of(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Symmetric:
    def __init__(self):
        self.h = b"Noise_XX_25519_ChaChaPoly_SHA256"
        self.ck = self.h
        self.k = None
        self.n = 0
        self.mix_hash(b"")

    def mix_hash(self, data):
        self.h = sha(self.h + data)

    def mix_key(self, material):
        self.ck, self.k = hkdf(self.ck, material)
        self.n = 0

    def encrypt(self, plaintext):
        out = plaintext if self.k is None else ChaCha20Poly1305(self.k).encrypt(nonce(self.n), plaintext, self.h)
        if self.k is not None:
            self.n += 1
        self.mix_hash(out)
        return out

    def decrypt(self, ciphertext):
        out = ciphertext if self.k is None else ChaCha20Poly1305(self.k).decrypt(nonce(self.n), ciphertext, self.h)
        if self.k is not None:
            self.n += 1
        self.mix_hash(ciphertext)
        return out


def payload_identity(payload, static_public):
    from libp2p.security.noise.pb.noise_pb2 import NoiseHandshakePayload
    message = NoiseHandshakePayload()
    message.ParseFromString(payload)
    key = deserialize_public_key(message.identity_key)
    check(key.verify(b"noise-libp2p-static-key:" + static_public, message.identity_sig), "Noise identity signature")
    return ID.from_pubkey(key)


h = lambda name: bytes.fromhex(noise[name])
i_s, i_e, r_s, r_e = h("initiator_static_secret"), h("initiator_ephemeral_secret"), h("responder_static_secret"), h("responder_ephemeral_secret")
# Responder reads message 1.
responder = Symmetric()
m1 = h("message1")
check(m1[:32] == public_of(i_e) and len(m1) == 32, "message 1 is the initiator's ephemeral key")
responder.mix_hash(m1[:32])
responder.decrypt(m1[32:])
# Initiator reads message 2.
initiator = Symmetric()
initiator.mix_hash(public_of(i_e))
initiator.encrypt(b"")
m2 = h("message2")
check(m2[:32] == public_of(r_e), "message 2 starts with the responder's ephemeral key")
initiator.mix_hash(m2[:32])
initiator.mix_key(dh(i_e, m2[:32]))  # ee
remote_static = initiator.decrypt(m2[32:80])
check(remote_static == public_of(r_s), "message 2 carries the responder's static key")
initiator.mix_key(dh(i_e, remote_static))  # es
responder_payload = initiator.decrypt(m2[80:])
responder_peer = payload_identity(responder_payload, remote_static)
check(responder_peer == ID.from_pubkey(key_from_seed(noise["responder_identity_seed"]).get_public_key()), "responder identity")
# The responder's side of message 2, which must produce the same bytes.
responder.mix_hash(public_of(r_e))
responder.mix_key(dh(r_e, m1[:32]))  # ee
check(responder.encrypt(public_of(r_s)) == m2[32:80], "responder encrypts its static key as sent")
responder.mix_key(dh(r_s, m1[:32]))  # es
check(responder.encrypt(responder_payload) == m2[80:], "responder encrypts its payload as sent")
# Message 3: the initiator's static key and payload.
m3 = h("message3")
check(initiator.encrypt(public_of(i_s)) == m3[:48], "initiator encrypts its static key as sent")
initiator.mix_key(dh(i_s, m2[:32]))  # se
got_static = responder.decrypt(m3[:48])
check(got_static == public_of(i_s), "responder decrypts the initiator's static key")
responder.mix_key(dh(r_e, got_static))  # se
initiator_peer = payload_identity(responder.decrypt(m3[48:]), got_static)
check(initiator_peer == ID.from_pubkey(key_from_seed(noise["initiator_identity_seed"]).get_public_key()), "initiator identity")
check(initiator.ck == responder.ck, "both sides end with the same chaining key")
k1, k2 = hkdf(responder.ck, b"")
check(k1.hex() == noise["initiator_to_responder_key"] and k2.hex() == noise["responder_to_initiator_key"], "split keys")
check(ChaCha20Poly1305(k1).decrypt(nonce(0), h("first_transport_ciphertext"), b"") == noise["first_transport_plaintext"].encode(), "first transport frame")

flags = {"syn": 1, "ack": 2, "fin": 4, "rst": 8}
kinds = {"data": 0, "window_update": 1, "ping": 2, "go_away": 3}
for entry in vectors["yamux_headers"]:
    packed = struct.pack(">BBHII", 0, kinds[entry["kind"]], sum(flags[f] for f in entry["flags"]), entry["stream"], entry["length"])
    check(packed.hex() == entry["bytes"], f"yamux {entry}")

find_node = Message()
find_node.ParseFromString(bytes.fromhex(vectors["kad_messages"][0]["bytes"]))
key2 = ID.from_pubkey(key_from_seed("ledgerd test key 2").get_public_key())
check(find_node.type == Message.MessageType.FIND_NODE and find_node.key == key2.to_bytes(), "FIND_NODE")
check(find_node.SerializeToString().hex() == vectors["kad_messages"][0]["bytes"], "FIND_NODE bytes")
answer = Message()
answer.ParseFromString(bytes.fromhex(vectors["kad_messages"][1]["bytes"]))
check(answer.type == Message.MessageType.GET_PROVIDERS and answer.key == b"\x12\x20" + sha(b"content"), "GET_PROVIDERS key")
check(ID(answer.providerPeers[0].id) == key2 and str(multiaddr.Multiaddr(answer.providerPeers[0].addrs[0])) == "/ip4/127.0.0.1/tcp/7651", "provider")
check(answer.SerializeToString().hex() == vectors["kad_messages"][1]["bytes"], "GET_PROVIDERS bytes")

identify = Identify()
identify.ParseFromString(bytes.fromhex(vectors["identify"]["bytes"]))
check(ID.from_pubkey(deserialize_public_key(identify.public_key)) == ID.from_pubkey(key_from_seed("ledgerd test key 1").get_public_key()), "identify key")
check(str(multiaddr.Multiaddr(identify.listen_addrs[0])) == "/ip4/127.0.0.1/tcp/7650", "identify listen address")
check(str(multiaddr.Multiaddr(identify.observed_addr)) == "/ip4/127.0.0.1/tcp/50000", "identify observed address")

# DHT record: CBOR map, BIP-340 signature over TaggedHash("ledgerd/dht-record", CBOR{key, value, seq}).
record = vectors["dht_record"]
fields = cbor2.loads(bytes.fromhex(record["encoded"]))
check(fields["key"] == record["key"] and fields["value"] == record["value"].encode() and fields["seq"] == record["seq"], "record fields")
signed = cbor2.dumps({"key": fields["key"], "seq": fields["seq"], "value": fields["value"]}, canonical=True)
tag = sha(b"ledgerd/dht-record")
digest = sha(tag + tag + signed)
check(coincurve.PublicKeyXOnly(fields["signer"]).verify(fields["signature"], digest), "record signature")
secret = sha(record["signer_seed"].encode())
check(coincurve.PrivateKey(secret).public_key_xonly.format() == fields["signer"], "record signer is key 1")

# A gossiped batch of transactions is a CBOR array of their envelopes as byte strings, canonical.
batch = vectors["transaction_batch"]
items = [bytes.fromhex(t) for t in batch["transactions"]]
check(cbor2.loads(bytes.fromhex(batch["data"])) == items, "transaction batch decodes to its transactions")
check(cbor2.dumps(items) == bytes.fromhex(batch["data"]), "transaction batch is canonical CBOR")
check(all(cbor2.loads(t)["tx"]["type"] == "transfer" for t in items), "transaction batch holds transfers")

# Bitswap 1.2.0: the message, built field by field with the protobuf library from boxo's message.proto
# (declared here as a descriptor), is byte for byte the vector; and the block's prefix and data give its CID.
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
def bitswap_class():
    f = descriptor_pb2.FileDescriptorProto(name="bitswap_message.proto", package="bitswap.message.pb", syntax="proto3")
    m = f.message_type.add(name="Message")
    T = descriptor_pb2.FieldDescriptorProto
    def field(msg, name, number, kind, label=T.LABEL_OPTIONAL, type_name=None):
        x = msg.field.add(name=name, number=number, type=kind, label=label)
        if type_name:
            x.type_name = type_name
    w = m.nested_type.add(name="Wantlist")
    e = w.nested_type.add(name="Entry")
    field(e, "block", 1, T.TYPE_BYTES); field(e, "priority", 2, T.TYPE_INT32); field(e, "cancel", 3, T.TYPE_BOOL)
    field(e, "wantType", 4, T.TYPE_INT32); field(e, "sendDontHave", 5, T.TYPE_BOOL)
    field(w, "entries", 1, T.TYPE_MESSAGE, T.LABEL_REPEATED, ".bitswap.message.pb.Message.Wantlist.Entry"); field(w, "full", 2, T.TYPE_BOOL)
    b = m.nested_type.add(name="Block")
    field(b, "prefix", 1, T.TYPE_BYTES); field(b, "data", 2, T.TYPE_BYTES)
    p = m.nested_type.add(name="BlockPresence")
    field(p, "cid", 1, T.TYPE_BYTES); field(p, "type", 2, T.TYPE_INT32)
    field(m, "wantlist", 1, T.TYPE_MESSAGE, type_name=".bitswap.message.pb.Message.Wantlist")
    field(m, "blocks", 2, T.TYPE_BYTES, T.LABEL_REPEATED)
    field(m, "payload", 3, T.TYPE_MESSAGE, T.LABEL_REPEATED, ".bitswap.message.pb.Message.Block")
    field(m, "blockPresences", 4, T.TYPE_MESSAGE, T.LABEL_REPEATED, ".bitswap.message.pb.Message.BlockPresence")
    field(m, "pendingBytes", 5, T.TYPE_INT32)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    descriptor = pool.FindMessageTypeByName("bitswap.message.pb.Message")
    return message_factory.GetMessageClass(descriptor) if hasattr(message_factory, "GetMessageClass") else message_factory.MessageFactory(pool).GetPrototype(descriptor)
def cid_bytes(text):
    if text.startswith("Qm"):
        alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        n = 0
        for ch in text:
            n = n * 58 + alphabet.index(ch)
        return n.to_bytes(34, "big")
    import base64
    body = text[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))
bitswap = vectors["bitswap"]
built = bitswap_class()()
for entry in bitswap["entries"]:
    built.wantlist.entries.add(block=cid_bytes(entry["cid"]), priority=entry["priority"], cancel=entry["cancel"],
                               wantType=entry["want_type"], sendDontHave=entry["send_dont_have"])
built.wantlist.full = bitswap["full"]
for block in bitswap["blocks"]:
    built.payload.add(prefix=bytes.fromhex(block["prefix_hex"]), data=bytes.fromhex(block["data_hex"]))
for presence in bitswap["presences"]:
    built.blockPresences.add(cid=cid_bytes(presence["cid"]), type=presence["type"])
check(built.SerializeToString() == bytes.fromhex(bitswap["message_hex"]), "Bitswap message encodes as protobuf does")
block = bitswap["blocks"][0]
prefix = bytes.fromhex(block["prefix_hex"])
check(prefix + hashlib.sha256(bytes.fromhex(block["data_hex"])).digest() == cid_bytes(block["cid"]), "Bitswap block prefix and data give its CID")

# Gossipsub: the RPC parses with py-libp2p's rpc.proto, and key 1's StrictSign signature verifies over
# "libp2p-pubsub:" + the message without signature and key.
from libp2p.pubsub.pb import rpc_pb2
gossip = vectors["gossipsub"]
rpc = rpc_pb2.RPC()
rpc.ParseFromString(bytes.fromhex(gossip["rpc"]))
check(rpc.subscriptions[0].subscribe and rpc.subscriptions[0].topicid == gossip["topic"], "gossipsub subscription")
m = rpc.publish[0]
# py-libp2p's rpc.proto names field 4 `repeated string topicIDs`: the same bytes as one `string topic`.
topic = m.topicIDs[0] if hasattr(m, "topicIDs") else m.topic
check(m.data == gossip["data"].encode() and topic == gossip["topic"] and int.from_bytes(m.seqno, "big") == gossip["seqno"], "gossipsub message fields")
author = key_from_seed(gossip["author_seed"])
check(m.from_id == ID.from_pubkey(author.get_public_key()).to_bytes(), "gossipsub author")
check((m.from_id + m.seqno).hex() == gossip["message_id"], "gossipsub message ID")
bare = rpc_pb2.Message()
bare.CopyFrom(m)
bare.ClearField("signature")
bare.ClearField("key")
check(b"libp2p-pubsub:" + bare.SerializeToString() == bytes.fromhex(gossip["signed_bytes"]), "gossipsub signed bytes")
check(author.get_public_key().verify(bytes.fromhex(gossip["signed_bytes"]), m.signature), "gossipsub signature")
check(rpc.control.graft[0].topicID == gossip["topic"] and rpc.control.prune[0].backoff == 60, "gossipsub control")

ms = vectors["multistream"]
check(ms["header"] == (bytes([19]) + b"/multistream/1.0.0\n").hex() and ms["noise"] == (bytes([7]) + b"/noise\n").hex(), "multistream")

# Foreign identity keys: RSA (4,096 bits) and ECDSA P-256, the published test keys of libp2p's peer-ids spec
# (github.com/libp2p/specs peer-ids/peer-ids.md, "Test vectors"). The private key gives the public key; the
# peer ID is the SHA-256 multihash of the public key protobuf (it exceeds 42 bytes); each key signs a Noise
# identity message as libp2p does (RSA: PKCS#1 v1.5 with SHA-256; ECDSA: SHA-256, DER, RFC 6979 nonces).
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives import hashes
from libp2p.crypto.pb import crypto_pb2


def base58(data):
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, text = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = alphabet[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def foreign_key_vector(entry):
    private = crypto_pb2.PrivateKey()
    private.ParseFromString(bytes.fromhex(entry["private_key_protobuf"]))
    if entry["type"] == "rsa":
        check(private.key_type == 0, "RSA private key type")
        key = serialization.load_der_private_key(private.data, None)  # PKCS#1 DER
        signature = key.sign(bytes.fromhex(entry["message"]), padding.PKCS1v15(), hashes.SHA256())
    else:
        check(private.key_type == 3, "ECDSA private key type")
        key = serialization.load_der_private_key(private.data, None)  # SEC1 DER
        check(key.curve.name == "secp256r1", "ECDSA curve")
        signature = key.sign(bytes.fromhex(entry["message"]), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = crypto_pb2.PublicKey(key_type=private.key_type, data=der).SerializeToString()
    peer = b"\x12\x20" + sha(public)
    return public, peer, signature


message = b"noise-libp2p-static-key:" + public_of(sha(b"noise initiator static"))
for entry in vectors["foreign_keys"]:
    public, peer, signature = foreign_key_vector(entry)
    check(entry["message"] == message.hex(), "foreign key message")
    check(public.hex() == entry["public_key_protobuf"], f"{entry['type']} public key protobuf")
    check(peer.hex() == entry["peer_id_hex"], f"{entry['type']} peer ID bytes")
    check(base58(peer) == entry["peer_id"] and ID(peer).pretty() == entry["peer_id"], f"{entry['type']} peer ID text")
    check(signature.hex() == entry["signature"], f"{entry['type']} signature")
    if entry["type"] == "rsa":  # py-libp2p has no ECDSA deserializer
        check(deserialize_public_key(public).verify(message, signature), "RSA signature verifies in py-libp2p")

print(f"{checks} checks passed")
