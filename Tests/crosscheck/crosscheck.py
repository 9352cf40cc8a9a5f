#!/usr/bin/env python3
"""An independent reading of specs/: re-derives every vector in specs/vectors/ from the prose rules alone,
in plain Python (hashlib only), so the specs can be shown to be enough to build a compatible client.

Usage: crosscheck.py SPECS_VECTORS_DIR      (exit 0 and "N checks passed, 0 failed" when all agree)
"""
import unicodedata
import hashlib, json, sys, os

checks = {"passed": 0, "failed": 0}

def check(condition, what):
    if condition:
        checks["passed"] += 1
    else:
        checks["failed"] += 1
        print("FAIL:", what)

# --- hashing (specs/ids-and-signatures.md) ---
def sha256(data): return hashlib.sha256(data).digest()
def tagged(tag, data):
    t = sha256(tag.encode())
    return sha256(t + t + data)

# --- the DAG-CBOR subset (specs/encoding.md) ---
class Link(bytes): pass

def encode(value):
    def head(major, n):
        if n < 24: return bytes([major << 5 | n])
        for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * width): return bytes([major << 5 | info]) + n.to_bytes(width, "big")
        raise ValueError("too large")
    if value is None: return b"\xf6"
    if value is True: return b"\xf5"
    if value is False: return b"\xf4"
    if isinstance(value, int): return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, Link): return head(6, 42) + head(2, len(value) + 1) + b"\x00" + bytes(value)
    if isinstance(value, bytes): return head(2, len(value)) + value
    if isinstance(value, str): b = value.encode(); return head(3, len(b)) + b
    if isinstance(value, list): return head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return head(5, len(value)) + b"".join(encode(k) + encode(value[k]) for k in keys)
    raise TypeError(type(value))

def decode(data):
    """Strict decoder: returns the value, raises ValueError on anything non-canonical."""
    pos = 0
    def take(n):
        nonlocal pos
        if pos + n > len(data): raise ValueError("truncated")
        pos += n
        return data[pos - n:pos]
    def argument(info):
        if info < 24: return info
        if info in (24, 25, 26, 27):
            width = 1 << (info - 24)
            n = int.from_bytes(take(width), "big")
            if n < (24 if width == 1 else 1 << (8 * width // 2)): raise ValueError("non-minimal")
            return n
        raise ValueError("indefinite or reserved")
    def item(depth):
        if depth > 32: raise ValueError("too deep")
        h = take(1)[0]; major, info = h >> 5, h & 31
        if major == 0: return argument(info)
        if major == 1: return -1 - argument(info)
        if major == 2: return bytes(take(argument(info)))
        if major == 3: return take(argument(info)).decode("utf-8")
        if major == 4: return [item(depth + 1) for _ in range(argument(info))]
        if major == 5:
            out, last, equivalents = {}, None, set()
            for _ in range(argument(info)):
                kh = take(1)[0]
                if kh >> 5 != 3: raise ValueError("key not text")
                kb = bytes(take(argument(kh & 31)))
                if last is not None and not ((len(last), last) < (len(kb), kb)): raise ValueError("key order")
                last = kb
                key = kb.decode("utf-8")
                # encoding.md: canonically equivalent keys with other bytes are duplicates.
                if unicodedata.normalize("NFD", key) in equivalents: raise ValueError("duplicate key")
                equivalents.add(unicodedata.normalize("NFD", key))
                out[key] = item(depth + 1)
            return out
        if major == 6:
            if argument(info) != 42: raise ValueError("tag")
            # The byte string inside a link is part of it: it does not add to the depth.
            inner = take(1)[0]
            if inner >> 5 != 2: raise ValueError("link")
            content = take(argument(inner & 31))
            if content[:1] != b"\x00" or len(content) < 2: raise ValueError("link")
            return Link(content[1:])
        if h == 0xf4: return False
        if h == 0xf5: return True
        if h == 0xf6: return None
        raise ValueError("simple or float")
    value = item(0)
    if pos != len(data): raise ValueError("trailing")
    return value

# --- Bech32m (BIP-350) ---
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5): chk ^= gen[i] if (top >> i) & 1 else 0
    return chk
def hrp_expand(h): return [ord(c) >> 5 for c in h] + [0] + [ord(c) & 31 for c in h]
def bech32m(hrp, data):
    groups, acc, bits = [], 0, 0
    for b in data:
        acc = acc << 8 | b; bits += 8
        while bits >= 5: bits -= 5; groups.append(acc >> bits & 31)
    if bits: groups.append(acc << (5 - bits) & 31)
    pm = polymod(hrp_expand(hrp) + groups + [0] * 6) ^ 0x2bc830a3
    return hrp + "1" + "".join(CHARSET[g] for g in groups + [pm >> 5 * (5 - i) & 31 for i in range(6)])
def bech32m_valid(text):
    if text.lower() != text and text.upper() != text: return False
    text = text.lower(); i = text.rfind("1")
    if i < 1 or len(text) - i < 7: return False
    try: data = [CHARSET.index(c) for c in text[i + 1:]]
    except ValueError: return False
    return polymod(hrp_expand(text[:i]) + data) == 0x2bc830a3

def bech32m_bytes(text):
    """The payload bytes of a valid Bech32m string."""
    assert bech32m_valid(text)
    text = text.lower(); groups = [CHARSET.index(c) for c in text[text.rfind("1") + 1:-6]]
    acc, bits, out = 0, 0, []
    for g in groups:
        acc = acc << 5 | g; bits += 5
        if bits >= 8: bits -= 8; out.append(acc >> bits & 255)
    return bytes(out)

def ledger_id(pub): return tagged("ledgerd/id", pub)[:20]
def derived(kind, parts): return tagged("ledgerd/key/" + kind, b"".join(parts))[:20]

# --- BIP-340 verification over secp256k1 ---
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798, 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)
def point_add(a, b):
    if a is None: return b
    if b is None: return a
    if a[0] == b[0] and a[1] != b[1]: return None
    lam = (3 * a[0] * a[0] * pow(2 * a[1], P - 2, P)) % P if a == b else ((b[1] - a[1]) * pow(b[0] - a[0], P - 2, P)) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)
def point_mul(p, n):
    r = None
    while n:
        if n & 1: r = point_add(r, p)
        p = point_add(p, p); n >>= 1
    return r
def lift_x(x):
    if x >= P: return None
    y2 = (pow(x, 3, P) + 7) % P
    y = pow(y2, (P + 1) // 4, P)
    if pow(y, 2, P) != y2: return None
    return (x, y if y % 2 == 0 else P - y)
def schnorr_verify(msg, pub, sig):
    if len(pub) != 32 or len(sig) != 64: return False
    pt = lift_x(int.from_bytes(pub, "big"))
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if pt is None or r >= P or s >= N: return False
    e = int.from_bytes(tagged("BIP0340/challenge", sig[:32] + pub + msg), "big") % N
    R = point_add(point_mul(G, s), point_mul(pt, N - e))
    return R is not None and R[1] % 2 == 0 and R[0] == r

# --- the state tree (specs/state-tree.md) ---
ZERO = bytes(32)
def bit(key, i): return key[i // 8] >> (7 - i % 8) & 1
def leaf_hash(key, value_hash): return sha256(b"\x00" + key + value_hash)
def branch_hash(l, r): return sha256(b"\x01" + l + r)
def tree_root(leaves, depth=0):
    if not leaves: return ZERO
    if len(leaves) == 1: (k, v), = leaves.items(); return leaf_hash(k, v)
    return branch_hash(tree_root({k: v for k, v in leaves.items() if not bit(k, depth)}, depth + 1),
                       tree_root({k: v for k, v in leaves.items() if bit(k, depth)}, depth + 1))
def verify_proof(proof, key, root):
    depth, bitmap, siblings, leaf = proof["depth"], proof["bitmap"], list(proof["siblings"]), proof["leaf"]
    if leaf is None: cur, outcome = ZERO, "absent"
    else:
        cur = leaf_hash(leaf["key"], leaf["value"])
        outcome = "present" if leaf["key"] == key else "absent"
        if outcome == "absent" and any(bit(leaf["key"], i) != bit(key, i) for i in range(depth)): return None
    for level in reversed(range(depth)):
        sib = siblings.pop() if bitmap[level // 8] & (0x80 >> level % 8) else ZERO
        cur = branch_hash(sib, cur) if bit(key, level) else branch_hash(cur, sib)
    return outcome if cur == root and not siblings else None

def tx_root(ids):
    if not ids: return ZERO
    if len(ids) == 1: return sha256(b"\x00" + ids[0])
    k = 1
    while k * 2 < len(ids): k *= 2
    return sha256(b"\x01" + tx_root(ids[:k]) + tx_root(ids[k:]))

def tx_root_from_leaves(leaves):
    if len(leaves) == 1: return leaves[0]
    k = 1
    while k * 2 < len(leaves): k *= 2
    return sha256(b"\x01" + tx_root_from_leaves(leaves[:k]) + tx_root_from_leaves(leaves[k:]))

def rfc9162_verify(leaf, index, count, path, root):
    if index >= count: return False
    fn, sn, r = index, count - 1, leaf
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root

def cid_text(encoded):
    raw = bytes([1, 0x71, 0x12, 0x20]) + sha256(encoded)
    alphabet, out, acc, bits = "abcdefghijklmnopqrstuvwxyz234567", "", 0, 0
    for b in raw:
        acc = acc << 8 | b; bits += 8
        while bits >= 5: bits -= 5; out += alphabet[acc >> bits & 31]
    if bits: out += alphabet[acc << (5 - bits) & 31]
    return "b" + out

# --- UnixFS import (specs/content.md) ---
def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80]); n >>= 7
    return out + bytes([n])
def pb_bytes(field, data): return varint(field << 3 | 2) + varint(len(data)) + data
def pb_varint(field, n): return varint(field << 3) + varint(n)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def base58(data):
    n, out = int.from_bytes(data, "big"), ""
    while n: n, r = divmod(n, 58); out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out
def content_cid(block, codec, version):
    mh = b"\x12\x20" + sha256(block)
    if version == 0 and codec == 0x70: return base58(mh)
    import base64
    return "b" + base64.b32encode(b"\x01" + varint(codec) + mh).decode().lower().rstrip("=")
def unixfs_add(data, chunk, version, raw, blocks):
    def node(links, fs, payload=None):  # links: [(cid bytes text, tsize, filesize)]
        body = pb_varint(1, 2) + (pb_bytes(2, payload) if payload else b"") + pb_varint(3, fs) + b"".join(pb_varint(4, l[2]) for l in links)
        block = b"".join(pb_bytes(2, pb_bytes(1, l[3]) + pb_bytes(2, b"") + pb_varint(3, l[1])) for l in links) + pb_bytes(1, body)
        mh = b"\x12\x20" + sha256(block)
        binary = mh if version == 0 else b"\x01" + varint(0x70) + mh
        blocks.append(block)
        return (content_cid(block, 0x70, version), len(block) + sum(l[1] for l in links), fs, binary)
    def leaf(piece):
        if raw:
            blocks.append(piece)
            return (content_cid(piece, 0x55, 1), len(piece), len(piece), b"\x01\x55\x12\x20" + sha256(piece))
        return node([], len(piece), piece)
    level = [leaf(data[i:i + chunk]) for i in range(0, len(data), chunk)] or [leaf(b"")]
    while len(level) > 1:  # grouping by 174 from the left, level by level, is the balanced layout
        level = [node(level[i:i + 174], sum(l[2] for l in level[i:i + 174])) for i in range(0, len(level), 174)]
    return level[0]

def main(folder):
    load = lambda name: json.load(open(os.path.join(folder, name)))
    # BIP-340's own vectors confirm this verifier before it judges ours.
    for line in open(os.path.join(folder, "bip340.csv")).read().splitlines()[1:]:
        f = line.split(",")
        check(schnorr_verify(bytes.fromhex(f[4]), bytes.fromhex(f[2]), bytes.fromhex(f[5])) == (f[6] == "TRUE"), "bip340 vector " + f[0])

    encoding = load("encoding.json")
    for v in encoding["valid"]:
        data = bytes.fromhex(v["hex"])
        check(encode(decode(data)) == data, "encoding: " + v["name"])
    for v in encoding["invalid"]:
        try: decode(bytes.fromhex(v["hex"])); check(False, "encoding accepted: " + v["name"])
        except (ValueError, UnicodeDecodeError) as error:
            check(v["error"] != "tooDeep" or str(error) == "too deep", "encoding rejected for another reason: " + v["name"])

    ids = load("ids.json")
    by_text = {}
    for k in ids["keys"]:
        check(sha256(k["secret_key_seed"].encode()).hex() == k["secret_key"], "secret seed")
        pub = bytes.fromhex(k["public_key"])
        check(ledger_id(pub).hex() == k["id_hex"], "id bytes of " + k["id"])
        check(bech32m("ld", ledger_id(pub)) == k["id"], "id text of " + k["id"])
        by_text[k["id"]] = ledger_id(pub)
    for d in ids["derived"]:
        check(bech32m("ld", derived(d["kind"], [by_text[p] for p in d["parts"]])) == d["id"], "derived " + d["kind"])
    def derived_part(part):
        (form, value), = part.items()
        return {"id": lambda: bech32m_bytes(value), "u64": lambda: value.to_bytes(8, "big"), "text": lambda: value.encode()}[form]()
    for d in ids["derived_data"]:
        check(bech32m("ld", derived(d["kind"], [derived_part(p) for p in d["parts"]])) == d["id"], "derived " + d["kind"] + " over mixed parts")
    for bad in ids["invalid_text"]:
        check(not (bech32m_valid(bad["text"]) and bad["text"].startswith("ld1")), "invalid id accepted: " + bad["why"])

    txs = load("transactions.json")
    for t in txs["transactions"]:
        unsigned = bytes.fromhex(t["unsigned_hex"]); tx = decode(unsigned)
        check(encode(tx) == unsigned, t["name"] + ": canonical")
        check(sha256(unsigned).hex() == t["id"], t["name"] + ": id")
        digest = tagged("ledgerd/tx", unsigned)
        check(digest.hex() == t["signing_digest"], t["name"] + ": signing digest")
        check(tx["chain"] == txs["chain"] and tx["type"] == t["type"], t["name"] + ": fields")
        check([bech32m("ld", ledger_id(s)) for s in tx["signers"]] == t["signer_ids"], t["name"] + ": signer ids")
        signed = decode(bytes.fromhex(t["signed_hex"]))
        check(encode(signed["tx"]) == unsigned and set(signed) == {"tx", "sigs"}, t["name"] + ": envelope")
        for pub, sig in zip(tx["signers"], signed["sigs"]):
            check(schnorr_verify(digest, pub, sig), t["name"] + ": signature")
        check(cid_text(bytes.fromhex(t["signed_hex"])) == t["cid"], t["name"] + ": cid")

    blocks = load("blocks.json")
    genesis = json.loads(blocks["genesis_json"])
    state = {}
    for a in genesis["balances"]:
        key = next(v for k, v in by_text.items() if k == a["account"]) if a["account"] in by_text else None
        check(key is not None, "genesis account is a known test key")
        state[key] = {"kind": "account", "balance": a["amount"], "nonce": 0}
    p = genesis["params"]
    state[derived("params", [])] = {"kind": "params", "genesisTime": genesis["genesis_time_ms"], "pulseMillis": p["pulse_millis"],
        "electionCyclePulses": p["election_cycle_pulses"], "publicityWindowPulses": p["publicity_window_pulses"],
        "storageByteDay": p["coefficients"]["storage_byte_day"], "cpuSecond": p["coefficients"]["cpu_second"],
        "settlementDeposit": p.get("settlement_deposit", 1 << 20), "miningReward": p.get("mining_reward_per_block", 0),
        "feePerByte": p.get("fee_per_byte", 0), "bookkeepersMax": p.get("bookkeepers_max", 21), "bondMinimum": p.get("bond_minimum", 1 << 20),
        "unbondDelayPulses": p.get("unbond_delay_pulses", 3600), "slashPercent": p.get("slash_percent", 5),
        "performanceMinPercent": p.get("performance_min_percent", 50)}
    # specs/blocks.md: dhtQuery only when the file gives it.
    if "dht_query" in p["coefficients"]:
        state[derived("params", [])]["dhtQuery"] = p["coefficients"]["dht_query"]
    # specs/blocks.md: the genesis set has power 1 each.
    genesis_set = {"kind": "bookkeepers", "keys": [bytes.fromhex(k) for k in genesis["bookkeepers"]], "powers": [1 for _ in genesis["bookkeepers"]]}
    state[derived("bookkeepers", [])] = genesis_set
    if genesis.get("bonds"):
        state[derived("bonds", [])] = {"kind": "bonds", "entries": [
            {"key": bytes.fromhex(b["bookkeeper"]), "bonded": b["amount"], "unbonding": 0, "releasePulse": 0, "releaseHeight": 0}
            for b in sorted(genesis["bonds"], key=lambda b: bytes.fromhex(b["bookkeeper"]))]}
    genesis_root = tree_root({k: sha256(encode(v)) for k, v in state.items()})
    check(genesis_root.hex() == blocks["genesis_block"]["state_root"], "genesis state root from the genesis file")
    g_header = decode(bytes.fromhex(blocks["genesis_block"]["header_hex"]))
    check(g_header["stateRoot"] == genesis_root and g_header["height"] == 0, "genesis header")
    check(sha256(bytes.fromhex(blocks["genesis_block"]["header_hex"])).hex() == blocks["genesis_block"]["hash"], "genesis hash")
    keys_record = genesis_set
    check(encode(keys_record).hex() == blocks["bookkeepers_record_hex"], "bookkeepers record encoding")
    set_hash = tagged("ledgerd/bookkeepers", encode(keys_record))
    check(set_hash.hex() == blocks["bookkeepers_hash"], "bookkeepers hash")
    check(g_header["bookkeepers"] == set_hash == g_header["nextBookkeepers"] and g_header["lastCommit"] == ZERO and g_header["evidence"] == ZERO, "genesis header sets")
    chain_id = genesis["chain_id"]
    def verify_certificate(cert, height, block_hash, what):
        # specs/blocks.md: precommits of distinct bookkeepers, each over TaggedHash("ledgerd/vote", ...),
        # holding more than two thirds of the power (1 each).
        check(cert["height"] == height and cert["block"] == block_hash, what + ": height and block")
        signers = set()
        for v in cert["votes"]:
            vote = {"chain": chain_id, "height": height, "round": cert["round"], "type": "precommit", "block": block_hash, "time": v["time"]}
            check(schnorr_verify(tagged("ledgerd/vote", encode(vote)), v["key"], v["sig"]), what + ": precommit signature")
            check(v["key"] in keys_record["keys"] and v["key"] not in signers, what + ": distinct bookkeepers")
            signers.add(v["key"])
        check(3 * len(signers) > 2 * len(keys_record["keys"]), what + ": more than two thirds")
    previous_hash = bytes.fromhex(blocks["genesis_block"]["hash"]); previous_commit = None
    for name in ["block_1", "block_2"]:
        b = blocks[name]; header_bytes = bytes.fromhex(b["header_hex"]); header = decode(header_bytes)
        block = decode(bytes.fromhex(b["block_hex"]))
        check(encode(block["header"]) == header_bytes, name + " header inside block")
        block_hash = sha256(header_bytes)
        check(block_hash.hex() == b["hash"] and header["previous"] == previous_hash, name + " links")
        ids_in_block = [sha256(encode(t)) for t in block["txs"]]  # hashes of the signed encodings (blocks.md)
        check(tx_root(ids_in_block) == header["txRoot"] and header["txCount"] == len(ids_in_block), name + " tx root")
        check(header["pulse"] == (header["time"] - genesis["genesis_time_ms"]) // p["pulse_millis"], name + " pulse")
        check(header["bookkeepers"] == set_hash == header["nextBookkeepers"], name + " bookkeeper sets")
        check(block["evidence"] == [] and header["evidence"] == ZERO, name + " carries no evidence")
        check(encode(block["commit"]).hex() == b["commit_hex"], name + " certificate encoding")
        check(tagged("ledgerd/commit", encode(block["commit"])).hex() == b["commit_hash"], name + " certificate hash")
        vote = {"chain": chain_id, "height": header["height"], "round": 0, "type": "precommit", "block": block_hash, "time": header["time"]}
        check(tagged("ledgerd/vote", encode(vote)).hex() == b["precommit_signing_digest"], name + " precommit signing digest")
        verify_certificate(block["commit"], header["height"], block_hash, name + " certificate")
        if previous_commit is None:
            check(block["lastCommit"] is None and header["lastCommit"] == ZERO, name + " carries no previous certificate")
        else:
            check(block["lastCommit"] == previous_commit and header["lastCommit"] == tagged("ledgerd/commit", encode(previous_commit)), name + " commits to the previous certificate")
            verify_certificate(block["lastCommit"], header["height"] - 1, previous_hash, name + " previous certificate")
        if name == "block_1":
            # Apply the transfer by the rules of specs/transactions.md and recompute the state root.
            tx = block["txs"][0]["tx"]; payer, payee = ledger_id(tx["signers"][0]), ledger_id(tx["signers"][1])
            amount = tx["body"]["amount"]
            state[payer] = {"kind": "account", "balance": state[payer]["balance"] - amount, "nonce": state[payer]["nonce"] + 1}
            state[payee] = {"kind": "account", "balance": amount, "nonce": 0}
            # specs/blocks.md §After the transactions: block 1 counts no certificate and opens the
            # performance count of its election cycle.
            state[derived("performance", [])] = {"kind": "performance", "cycle": header["pulse"] // p["election_cycle_pulses"], "entries": []}
            check(tree_root({k: sha256(encode(v)) for k, v in state.items()}) == header["stateRoot"], "block 1 state root after the transfer")
        previous_hash = block_hash; previous_commit = block["commit"]

    consensus = load("consensus.json")
    voter = bytes.fromhex(consensus["voter_public_key"]); voted = bytes.fromhex(consensus["block"])
    for name, kind, value, time in [("prevote", "prevote", voted, 1795000005000), ("nil_precommit", "precommit", None, 1795000005100)]:
        message = decode(bytes.fromhex(consensus[name]["message_hex"]))
        check(set(message) == {"vote"}, name + ": one-key message")
        v = message["vote"]
        body = {"chain": consensus["chain"], "height": 5, "round": 1, "type": kind, "block": value, "time": time}
        check({k: v[k] for k in body} == body and v["key"] == voter, name + ": fields")
        digest = tagged("ledgerd/vote", encode(body))
        check(digest.hex() == consensus[name]["signing_digest"] and schnorr_verify(digest, voter, v["sig"]), name + ": signature")
    evidence = decode(bytes.fromhex(consensus["evidence_hex"]))["evidence"]
    check(len(evidence) == 2 and evidence[0]["key"] == evidence[1]["key"] and evidence[0]["block"] != evidence[1]["block"], "evidence: one voter, two values")
    def vote_digest(v):
        return tagged("ledgerd/vote", encode({k: v[k] for k in ["chain", "height", "round", "type", "block", "time"]}))
    check(vote_digest(evidence[0]) < vote_digest(evidence[1]), "evidence: ordered by signing digest")
    check(all(schnorr_verify(vote_digest(v), v["key"], v["sig"]) for v in evidence), "evidence: both votes verify")
    check(tagged("ledgerd/evidence", encode(evidence)).hex() == consensus["evidence_hash"], "evidence hash")
    proposal = decode(bytes.fromhex(consensus["proposal"]["message_hex"]))["proposal"]
    proposed_hash = sha256(encode(proposal["block"]["header"]))
    pd = tagged("ledgerd/proposal", encode({"chain": consensus["chain"], "height": 1, "round": 0, "validRound": None, "block": proposed_hash}))
    check(pd.hex() == consensus["proposal"]["signing_digest"] and schnorr_verify(pd, proposal["key"], proposal["sig"]), "proposal signature")
    check(proposal["block"]["commit"] is None and proposal["validRound"] is None, "a proposal's block has no certificate yet")
    rd = tagged("ledgerd/proposal", encode({"chain": consensus["chain"], "height": 1, "round": 3, "validRound": 1, "block": proposed_hash}))
    check(rd.hex() == consensus["reproposal_signing_digest"], "re-proposal signing digest")
    # Weighted round-robin (specs/consensus.md): step k = height + round modulo the total power.
    set_keys = [voter, bytes.fromhex(genesis["bookkeepers"][1])]
    def proposer(height, round_, powers):
        total = sum(powers); step = (height % total + round_ % total) % total; priorities = [0] * len(powers); chosen = 0
        for _ in range(step + 1):
            priorities = [p_ + w for p_, w in zip(priorities, powers)]
            chosen = max(range(len(powers)), key=lambda i: (priorities[i], -i)); priorities[chosen] -= total
        return chosen
    check([set_keys[proposer(h, 0, [1, 1])].hex() for h in range(1, 9)] == consensus["proposers_of_heights_1_to_8_for_keys_3_2"], "proposer rotation")

    tree = load("state-tree.json")
    check(tree["empty_root"] == ZERO.hex(), "empty root")
    for case in tree["insertions"]:
        leaves = {bytes.fromhex(l["key"]): sha256(bytes.fromhex(l["value_hex"])) for l in case["leaves"]}
        check(tree_root(leaves).hex() == case["root"], "tree root with %d leaves" % len(leaves))
    for pr in tree["proofs"]:
        proof = decode(bytes.fromhex(pr["proof_hex"]))
        check(verify_proof(proof, bytes.fromhex(pr["key"]), bytes.fromhex(pr["root"])) == pr["outcome"], "proof " + pr["outcome"])
        forged = dict(proof); forged["siblings"] = [bytes(32)] * len(proof["siblings"])
        check(not proof["siblings"] or verify_proof(forged, bytes.fromhex(pr["key"]), bytes.fromhex(pr["root"])) is None, "forged proof rejected")
    last = tree["insertions"][-1]["leaves"]
    remaining = {bytes.fromhex(l["key"]): sha256(bytes.fromhex(l["value_hex"])) for l in last if l["key"] != tree["after_deleting_last"]["key"]}
    check(tree_root(remaining).hex() == tree["after_deleting_last"]["root"], "root after deletion")

    credit = load("credit.json")
    r = credit["receipt"]; receipt_bytes = bytes.fromhex(r["receipt_hex"]); receipt = decode(receipt_bytes)
    check(encode(receipt) == receipt_bytes and receipt["chain"] == credit["chain"], "receipt canonical")
    check(tagged("ledgerd/receipt", receipt_bytes).hex() == r["signing_digest"], "receipt signing digest")
    signed = decode(bytes.fromhex(r["signed_hex"]))
    check(encode(signed["receipt"]) == receipt_bytes, "signed receipt holds the receipt")
    check(bech32m("ld", ledger_id(signed["key"])) == r["consumer"] == bech32m("ld", receipt["consumer"]), "receipt signed by the consumer")
    check(schnorr_verify(tagged("ledgerd/receipt", receipt_bytes), signed["key"], signed["sig"]), "receipt signature")
    stream = derived("settlement", [receipt["provider"], receipt["consumer"], receipt["service"].encode()])
    check(bech32m("ld", stream) == r["stream"], "receipt stream key")
    a = credit["acknowledgement"]; ack_bytes = bytes.fromhex(a["ack_hex"]); ack = decode(ack_bytes)
    check(encode(ack) == ack_bytes and encode(ack["ack"]) == receipt_bytes, "acknowledgement holds the receipt")
    check(tagged("ledgerd/receipt-ack", receipt_bytes).hex() == a["signing_digest"], "acknowledgement signing digest")
    check(bech32m("ld", ledger_id(ack["key"])) == r["provider"], "acknowledgement signed by the provider")
    check(schnorr_verify(tagged("ledgerd/receipt-ack", receipt_bytes), ack["key"], ack["sig"]), "acknowledgement signature")
    check(decode(bytes.fromhex(a["answer_hex"])) == {"ack": ack_bytes}, "receipt protocol answer carries the acknowledgement")
    for t in credit["transactions"]:
        unsigned = bytes.fromhex(t["unsigned_hex"]); tx = decode(unsigned)
        check(encode(tx) == unsigned and tx["type"] == t["name"], t["name"] + ": canonical")
        check(sha256(unsigned).hex() == t["id"], t["name"] + ": id")
        for pub, sig in zip(tx["signers"], t["signatures"]):
            check(schnorr_verify(tagged("ledgerd/tx", unsigned), pub, bytes.fromhex(sig)), t["name"] + ": signature")
        if t["name"] == "credit.net":
            body = tx["body"]
            check(body["relieved"] == sum(c["amount"] * len(c["nodes"]) for c in body["cycles"]), "netting relieved")
        if t["name"] == "receipt.settle":
            check(encode(tx["body"]["receipt"]) == bytes.fromhex(r["signed_hex"]), "settle carries the signed receipt")
    sp = credit["storage_price"]
    numerator = sp["size"] * sp["price_per_gib_day"] * sp["period_pulses"]; denominator = (1 << 30) * sp["pulses_per_day"]
    check(sp["price"] == -(-numerator // denominator), "storage price formula")
    fv = credit["forward_value"]
    check(fv["value"] == -(-fv["bytes"] * fv["price_ppm"] // 1000000), "forward value formula")
    sg = credit["segments"]
    content = bytes(((i * 31) ^ (i >> 8)) % 256 for i in range(5000))
    leaves = [sha256(b"\x00" + content[i:i + 1024]) for i in range(0, len(content), 1024)]
    check(tx_root_from_leaves(leaves).hex() == sg["root"], "segment root")
    check(content[3072:4096].hex() == sg["segment_hex"], "segment bytes")
    check(rfc9162_verify(sha256(b"\x00" + bytes.fromhex(sg["segment_hex"])), sg["index"], len(leaves), [bytes.fromhex(p) for p in sg["path"]], bytes.fromhex(sg["root"])), "segment audit path")
    for other in (0, 1, 2, 4):
        check(not rfc9162_verify(sha256(b"\x00" + bytes.fromhex(sg["segment_hex"])), other, len(leaves), [bytes.fromhex(p) for p in sg["path"]], bytes.fromhex(sg["root"])), "audit path fails at another index")
    ch = credit["challenge"]
    seed = tagged("ledgerd/challenge", bytes.fromhex(ch["previous_block_hash"]) + bech32m_bytes(ch["contract"]) + ch["period"].to_bytes(8, "big"))
    check(int.from_bytes(seed[:8], "big") % ch["segments"] == ch["index"], "challenge index")

    orgs = load("organizations.json")
    sp = orgs["split"]; rules = decode(bytes.fromhex(sp["rules_hex"])); income = sp["income"]
    ident = lambda text: bech32m_bytes(text)
    paid = {}
    def pay(who, amount):
        if amount: paid[who] = paid.get(who, 0) + amount
    for split in rules["splits"]:
        part = income * split["ppm"] // 1000000
        if "member" in split: pay(split["member"], part)
        else:
            members = [ident(m) for m in sp["roles"].get(split["role"], [])]
            for m in members: pay(m, part // len(members))
    part = income * rules["proRata"] // 1000000; supply = sum(b for _, b in sp["holders"])
    for holder, balance in sp["holders"]: pay(ident(holder), part * balance // supply)
    part = income * rules["valueChain"] // 1000000; weights = sum(w for _, w in sp["contributors"])
    for contributor, weight in sp["contributors"]: pay(ident(contributor), part * weight // weights)
    payouts = sorted(paid.items())
    check([[bech32m("ld", who), amount] for who, amount in payouts] == sp["payouts"], "split payouts by the rounding rule")
    check(income - sum(paid.values()) == sp["remainder"], "split remainder")
    check(sum(paid.values()) + sp["remainder"] == income, "split adds up")
    leaves = [sha256(b"\x00" + who + amount.to_bytes(8, "big")) for who, amount in payouts]
    check(tx_root_from_leaves(leaves).hex() == sp["payout_root"], "payout root")
    for t in orgs["transactions"]:
        unsigned = bytes.fromhex(t["unsigned_hex"]); tx = decode(unsigned)
        check(encode(tx) == unsigned and tx["type"] == t["name"] and sha256(unsigned).hex() == t["id"], t["name"] + ": canonical and id")
        check(schnorr_verify(tagged("ledgerd/tx", unsigned), tx["signers"][0], bytes.fromhex(t["signatures"][0])), t["name"] + ": signature")

    content = load("content.json")
    for f in content["files"]:
        n = f["bytes_count"]
        data = bytes((7 * i + i // 256) % 256 for i in range(n)) if f.get("content") == "pattern" else bytes.fromhex(f["content_hex"])
        blocks = []
        root = unixfs_add(data, f["chunk_size"], f["cid_version"], f["raw_leaves"], blocks)
        check(root[0] == f["cid"] and root[1] == f["dag_size"], "ipfs add: " + f["description"])
        for b in f["blocks"]:
            check(bytes.fromhex(b["hex"]) in blocks, "ipfs add block " + b["cid"] + ": " + f["description"])

    # The CAR of hello world (specs/content.md §CAR): header {"roots": [root], "version": 1}, then its block.
    def uvarint(n):
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7f | 0x80]); n >>= 7
        return out + bytes([n])
    car = content["car"]
    blocks = []
    _, _, _, binary = unixfs_add(b"hello world\n", 262144, 0, False, blocks)
    header = encode({"roots": [Link(binary)], "version": 1})
    block = blocks[-1]
    check(car["root"] == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "CAR root")
    check(bytes.fromhex(car["hex"]) == uvarint(len(header)) + header + uvarint(len(binary) + len(block)) + binary + block, "CARv1 of hello world")

    # A MiMei capability (specs/content.md §Rights): the descriptor hashes to the MiMei ID, the signer's ID
    # is the descriptor's author, and the signature covers {mimei, reader, expires}.
    cap = content["capability"]
    descriptor = decode(bytes.fromhex(cap["descriptor_hex"]))
    capability = decode(bytes.fromhex(cap["hex"]))
    mimei_id = tagged("ledgerd/key/mimei", bytes.fromhex(cap["descriptor_hex"]))[:20]
    check(encode(descriptor).hex() == cap["descriptor_hex"] and descriptor["private"] is True, "capability: canonical private descriptor")
    check(capability["mimei"] == mimei_id and capability["reader"].hex() == cap["reader_hex"] and capability["expires"] == cap["expires"], "capability: fields")
    check(tagged("ledgerd/id", capability["signer"])[:20] == descriptor["author"], "capability: signed by the author")
    signed = encode({"mimei": capability["mimei"], "reader": capability["reader"], "expires": capability["expires"]})
    check(schnorr_verify(tagged("ledgerd/mimei-capability", signed), capability["signer"], capability["signature"]), "capability: signature")
    check(encode(capability).hex() == cap["hex"], "capability: canonical")

    print("crosscheck: %d passed, %d failed" % (checks["passed"], checks["failed"]))
    return 1 if checks["failed"] else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "specs/vectors"))
