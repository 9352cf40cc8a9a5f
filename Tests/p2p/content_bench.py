#!/usr/bin/env python3
"""The content plane's figures for `make bench` (issue 11's bars), measured in one network namespace that
has loopback alone (ledger-bench starts it with `unshare -n`):

- plain TCP: EXCHANGE MiB sent over one loopback socket, best of 3 (the reference for Bitswap);
- ledgerd from ledgerd: node B (bootstrapped to A) fetching A's EXCHANGE-MiB file over Bitswap, timed by
  a HEAD on B's gateway (which fetches the whole file before answering), best of 2 with `repo gc` between;
- Kubo from ledgerd: Kubo 0.22's Download of the same file from A;
- the gateway under wrk (64 connections, 2 threads, SECONDS s) for a 1 MiB and a 4 KiB object, against
  nginx serving the same bytes from disk (sendfile on, access log off, worker_processes auto);
- A's resident memory (VmRSS sampled every 20 ms) while serving a SERVE-MiB file, against its idle figure.

Prints one JSON line ("figures") or an error line.
Usage: content_bench.py LIBKUBO.so BIN_DIR WORK_DIR EXCHANGE_MIB SERVE_MIB SECONDS
"""
import json, os, random, re, socket, subprocess, sys, threading, time, urllib.error, urllib.request

import cffi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_repo  # noqa: E402


def fail(message):
    print(json.dumps({"error": message}), flush=True)
    sys.exit(1)


libkubo, bin_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
exchange_mib, serve_mib, wrk_seconds = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
if any(line.split(":")[1].strip() != "lo" for line in links.strip().splitlines()):
    fail("the namespace has links other than loopback")
ledgerd, ledgerctl = os.path.join(bin_dir, "ledgerd"), os.path.join(bin_dir, "ledgerctl")
processes = []


def write_random(path, size, seed):
    generator = random.Random(seed)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            piece = min(left, 1 << 20)
            out.write(generator.randbytes(piece))
            left -= piece


def ctl(data, *arguments):
    result = subprocess.run([ledgerctl, "--data", data, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        fail("ledgerctl %s: %s" % (" ".join(arguments[:2]), result.stderr.strip()[-300:]))
    return result.stdout.strip()


def start(name, *extra):
    data = os.path.join(work, name)
    process = subprocess.Popen([ledgerd, "run", "--data", data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0", *extra],
                               stdout=open(data + ".log", "w"), stderr=subprocess.STDOUT)
    processes.append(process)
    for _ in range(300):
        if os.path.exists(os.path.join(data, "http.address")) and os.path.exists(os.path.join(data, "p2p.address")):
            return process, open(os.path.join(data, "http.address")).read().strip(), open(os.path.join(data, "p2p.address")).read().split()[0]
        time.sleep(0.1)
    fail(name + " did not start")


def plain_tcp(size):
    payload = b"\x5a" * (1 << 20)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received = []

    def sink():
        connection, _ = listener.accept()
        total = 0
        while True:
            chunk = connection.recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
        received.append(total)
        connection.close()
    thread = threading.Thread(target=sink)
    thread.start()
    start_time = time.perf_counter()
    client = socket.create_connection(listener.getsockname())
    for _ in range(size >> 20):
        client.sendall(payload)
    client.shutdown(socket.SHUT_WR)
    thread.join()
    seconds = time.perf_counter() - start_time
    client.close()
    listener.close()
    if received != [size]:
        fail("the plain TCP copy lost bytes")
    return seconds


def wrk(url):
    result = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % wrk_seconds, url], capture_output=True, text=True)
    found = re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if not found or errors:
        fail("wrk against %s: %s" % (url, result.stdout[-400:] + result.stderr[-200:]))
    return float(found.group(1))


def rss(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def timed_fetch():
    """Best of 2: B's gateway fetches the whole exchange file before it answers a HEAD (repo gc between).
    Also sets the global `fetch_total` to both fetches' seconds together."""
    global fetch_total
    best, fetch_total = None, 0.0
    for _ in range(2):
        ctl(b_data, "ipfs", "repo", "gc")
        start_time = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(b_http + "/ipfs/" + cids["exchange"], method="HEAD"), timeout=600) as answer:
                if int(answer.headers["Content-Length"]) != exchange:
                    fail("B's HEAD gave the wrong length")
        except urllib.error.HTTPError as error:
            try:
                urllib.request.urlopen(b_http + "/ipfs/" + cids["exchange"], timeout=600)
                body = "GET worked"
            except urllib.error.HTTPError as again:
                body = again.read().decode()
            fail("B's gateway answered %d to HEAD; GET: %s" % (error.code, body))
        seconds = time.perf_counter() - start_time
        fetch_total += seconds
        best = seconds if best is None else min(best, seconds)
    return best


try:
    figures = {}
    a_data, b_data = os.path.join(work, "a"), os.path.join(work, "b")
    subprocess.run([ledgerd, "init", "--data", a_data], check=True, capture_output=True)
    subprocess.run([ledgerd, "init", "--data", b_data, "--genesis", os.path.join(a_data, "genesis.json")], check=True, capture_output=True)
    www = os.path.join(work, "www")
    os.makedirs(www)
    files = {"exchange": (exchange_mib << 20, 11), "serve": (serve_mib << 20, 12), "one_mib": (1 << 20, 13), "four_kib": (4096, 14)}
    cids = {}
    for name, (size, seed) in files.items():
        write_random(os.path.join(www, name), size, seed)
        cids[name] = ctl(a_data, "ipfs", "add", "-Q", os.path.join(www, name))
    a, a_http, a_p2p = start("a")
    b, b_http, _ = start("b", "--bootstrap", a_p2p, "--fetch-timeout", "600")

    exchange = exchange_mib << 20
    figures["tcp_seconds"] = min(plain_tcp(exchange) for _ in range(3))

    # ledgerd from ledgerd, unbilled (B has no line from A: its free allowance).
    best = timed_fetch()
    figures["ledgerd_from_ledgerd_seconds"] = best

    # The same transfer billed: A grants B a line, so B signs a receipt every MiB, A checks and
    # acknowledges each and settles on the chain; then, for the reference, both restarted with metering off.
    b_id = json.loads(ctl(b_data, "status", "--json"))["node_id"]
    ctl(a_data, "credit", "grant", "--to", b_id, "--limit", "1TiB")
    a_height = json.loads(ctl(a_data, "status", "--json"))["height"]
    for _ in range(300):
        if json.loads(ctl(b_data, "status", "--json"))["height"] >= a_height:
            break
        time.sleep(0.1)
    else:
        fail("B did not sync A's letter of credit")
    billed = timed_fetch()
    metering = json.loads(ctl(a_data, "metering", "--json"))
    served = [row for row in metering["provided"] if row["consumer"] == b_id]
    if not served or served[0]["receipted"] < (exchange_mib - 2) << 20:
        fail("the billed transfer was not receipted: %s" % metering)
    figures["billed_seconds"] = billed
    figures["billed_receipts"] = served[0]["sequence"]
    figures["billed_total_seconds"] = fetch_total
    for process in (b, a):
        process.terminate()
        process.wait(timeout=60)
    a, a_http, a_p2p = start("a", "--no-metering")
    b, b_http, _ = start("b", "--bootstrap", a_p2p, "--fetch-timeout", "600", "--no-metering")
    figures["unmetered_seconds"] = timed_fetch()
    blocks_in_b = ctl(b_data, "ipfs", "ls", cids["exchange"], "--json")
    figures["exchange_links"] = len(json.loads(blocks_in_b)["links"])

    # Kubo from ledgerd.
    ffi = cffi.FFI()
    ffi.cdef("int CreateRepo(char* repoPath); int RunNode(char* repoPath); int ConnectToPeer(char* repoPath, char* peerAddr);"
             "int Download(char* repoPath, char* cidStr, char* destPath);")
    os.chdir(work)
    lib = ffi.dlopen(libkubo)
    repo = os.path.join(work, "kubo").encode()
    problem = kubo_repo.configure(lib, repo, work)
    if problem or lib.RunNode(repo) < 0 or lib.ConnectToPeer(repo, a_p2p.encode()) != 0:
        fail(problem or "Kubo did not start or connect")
    destination = os.path.join(work, "kubo-exchange")
    start_time = time.perf_counter()
    if lib.Download(repo, cids["exchange"].encode(), destination.encode()) != 0:
        fail("Kubo's Download failed")
    figures["kubo_from_ledgerd_seconds"] = time.perf_counter() - start_time
    if os.path.getsize(destination) != exchange:
        fail("Kubo downloaded %d bytes" % os.path.getsize(destination))

    # The gateway against nginx, the same bytes.
    config = os.path.join(work, "nginx.conf")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    open(config, "w").write("""worker_processes auto; daemon off; pid %s/nginx.pid; error_log stderr error; user root;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;
  server { listen 127.0.0.1:%d; root %s; } }
""" % (work, work, work, work, work, work, port, www))
    nginx = subprocess.Popen(["nginx", "-c", config, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(nginx)
    time.sleep(0.5)
    for name in ("one_mib", "four_kib"):
        figures["gateway_%s_rps" % name] = wrk(a_http + "/ipfs/" + cids[name])
        figures["nginx_%s_rps" % name] = wrk("http://127.0.0.1:%d/%s" % (port, name))

    # A's memory while it serves the big file.
    time.sleep(1)
    idle = rss(a.pid)
    peak = [idle]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss(a.pid))
            time.sleep(0.02)
    sampler = threading.Thread(target=sample)
    sampler.start()
    served = 0
    start_time = time.perf_counter()
    with urllib.request.urlopen(a_http + "/ipfs/" + cids["serve"], timeout=600) as answer:
        while True:
            chunk = answer.read(1 << 20)
            if not chunk:
                break
            served += len(chunk)
    figures["serve_seconds"] = time.perf_counter() - start_time
    done.set()
    sampler.join()
    if served != serve_mib << 20:
        fail("A served %d bytes of the big file" % served)
    figures["idle_rss_bytes"] = idle
    figures["serving_rss_bytes"] = peak[0]
    figures.update({"exchange_bytes": exchange, "serve_bytes": serve_mib << 20})
    print(json.dumps({"figures": figures}), flush=True)
finally:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
