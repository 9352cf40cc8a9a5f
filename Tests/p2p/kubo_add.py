#!/usr/bin/env python3
"""CIDs of `ipfs add` from three implementations, for files at every chunk and link-count boundary of
Kubo's defaults (256 KiB chunks, 174 links per node) up to 100 MiB: Kubo 0.22's AddFile (from the PyPI
wheel kubo-python, only-hash), Debian's ipfs_cid, and `ledgerctl ipfs add --only-hash`.

Run inside a network namespace that has loopback alone (the Swift test starts it with `unshare -n`):
Kubo starts a node, with no bootstrap peers, before it adds. Prints one JSON line per file and a last
`done` line; exits 1 on the first disagreement.

Usage: kubo_add.py LIBKUBO.so LEDGERCTL WORK_DIR
       kubo_add.py LIBKUBO.so --time FILE WORK_DIR   (the benchmark: the best of three only-hash adds
                                                      of FILE by Kubo, in seconds, and its CID)
"""
import json, os, random, subprocess, sys, time

import cffi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_repo  # noqa: E402


def step(name, **fields):
    print(json.dumps({"step": name, **fields}), flush=True)


def fail(message):
    step("error", message=message)
    sys.exit(1)


libkubo, ledgerctl = sys.argv[1], sys.argv[2]
work = sys.argv[4] if ledgerctl == "--time" else sys.argv[3]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
if any(line.split(":")[1].strip() != "lo" for line in links.strip().splitlines()):
    fail("the namespace has links other than loopback: " + links)

ffi = cffi.FFI()
ffi.cdef("""
int CreateRepo(char* repoPath); int RunNode(char* repoPath); char* AddFile(char* repoPath, char* filePath, _Bool onlyHash);
""")
os.chdir(work)  # Kubo writes its kubo.log into the working directory
lib = ffi.dlopen(libkubo)
repo = os.path.join(work, "kubo").encode()
problem = kubo_repo.configure(lib, repo, work, pubsub=False)
if problem:
    fail(problem)
if lib.RunNode(repo) < 0:
    fail("Kubo did not start")

if ledgerctl == "--time":
    path = os.path.abspath(sys.argv[3])
    best, cid = None, None
    for _ in range(3):
        start = time.perf_counter()
        pointer = lib.AddFile(repo, path.encode(), True)
        elapsed = time.perf_counter() - start
        cid = None if pointer == ffi.NULL else ffi.string(pointer).decode().strip()
        best = elapsed if best is None else min(best, elapsed)
    if not cid or not cid.startswith("Qm"):
        fail("Kubo did not add %s: %r" % (path, cid))
    step("timed", seconds=best, cid=cid)
    sys.exit(0)

chunk, links = 262144, 174
sizes = [0, 1, 12, chunk - 1, chunk, chunk + 1, 2 * chunk, (links - 1) * chunk + 7, links * chunk, links * chunk + 1,
         (links + 1) * chunk, 100 * 1024 * 1024]
for size in sizes:
    path = os.path.join(work, "file-%d" % size)
    with open(path, "wb") as out:
        out.write(b"hello world\n" if size == 12 else random.Random(size).randbytes(size))
    pointer = lib.AddFile(repo, path.encode(), True)
    kubo = None if pointer == ffi.NULL else ffi.string(pointer).decode().strip()
    if kubo and kubo.startswith("{"):
        kubo = json.loads(kubo).get("cid") or json.loads(kubo).get("Hash")
    ours = subprocess.run([ledgerctl, "ipfs", "add", "--only-hash", "-Q", path], capture_output=True, text=True)
    debian = subprocess.run(["ipfs_cid", path], capture_output=True, text=True)
    try:
        reference = json.loads(debian.stdout.strip().splitlines()[0])["CIDv0"]
    except (ValueError, IndexError, KeyError):
        reference = None
    step("file", size=size, kubo=kubo, ipfs_cid=reference, ledgerctl=ours.stdout.strip())
    if not kubo or kubo != reference or ours.stdout.strip() != kubo:
        fail("the CIDs disagree for %d bytes: Kubo %s, ipfs_cid %s, ledgerctl %s %s" % (size, kubo, reference, ours.stdout.strip(), ours.stderr.strip()))
    os.remove(path)

# Directories (`ipfs add -r --hidden`, which is what AddFile does): nesting, an empty file and directory,
# a hidden file, a symlink (kept, not followed), a file of two chunks, names that sort by bytes.
tree = os.path.join(work, "tree")
os.makedirs(os.path.join(tree, "sub", "deeper"))
os.makedirs(os.path.join(tree, "empty-dir"))
for name, content in [("a.txt", b"hello world\n"), ("B.txt", b"upper"), ("empty", b""), (".hidden", b"x"),
                      ("sub/two-chunks", random.Random(7).randbytes(chunk + 5)), ("sub/deeper/\u00e9t\u00e9", b"unicode name")]:
    with open(os.path.join(tree, name), "wb") as out:
        out.write(content)
os.symlink("a.txt", os.path.join(tree, "link"))
os.makedirs(os.path.join(work, "single"))
with open(os.path.join(work, "single", "a.txt"), "wb") as out:
    out.write(b"hello world\n")
# HAMT sharding (boxo 0.11): a directory is sharded once its names' and CIDs' bytes reach 256 KiB. Empty
# files (34-byte CIDs) named f00000… (6 bytes) take 40 bytes each: 6,553 stay a basic directory (262,120
# bytes), 6,554 are sharded (262,160), and 40,000 need sub-shards two levels down.
for count in (6553, 6554, 40000):
    folder = os.path.join(work, "hamt-%d" % count)
    os.makedirs(folder)
    for index in range(count):
        open(os.path.join(folder, "f%05d" % index), "wb").close()
# Files with content and long names of many lengths, so that entries differ in their CIDs and sizes too.
mixed = os.path.join(work, "hamt-mixed")
os.makedirs(mixed)
for index in range(3000):
    with open(os.path.join(mixed, ("entry-%d-" % index) + "x" * (index % 90)), "wb") as out:
        out.write(random.Random(index).randbytes(index % 300))
checks = [("directory tree", tree, ["-r", "--hidden", tree]),
          ("basic directory below the sharding threshold", os.path.join(work, "hamt-6553"), ["-r", os.path.join(work, "hamt-6553")]),
          ("HAMT directory at the threshold", os.path.join(work, "hamt-6554"), ["-r", os.path.join(work, "hamt-6554")]),
          ("HAMT directory of 40,000 entries", os.path.join(work, "hamt-40000"), ["-r", os.path.join(work, "hamt-40000")]),
          ("HAMT directory of mixed entries", mixed, ["-r", mixed]),
          # --wrap-with-directory is a directory holding the one entry, which Kubo is asked for directly.
          ("wrapped file", os.path.join(work, "single"), ["-w", os.path.join(tree, "a.txt")])]
for what, kubo_path, arguments in checks:
    pointer = lib.AddFile(repo, kubo_path.encode(), True)
    kubo = None if pointer == ffi.NULL else ffi.string(pointer).decode().strip()
    ours = subprocess.run([ledgerctl, "ipfs", "add", "--only-hash", "-Q"] + arguments, capture_output=True, text=True)
    step("directory", what=what, kubo=kubo, ledgerctl=ours.stdout.strip())
    if not kubo or ours.stdout.strip() != kubo:
        fail("the CIDs disagree for the %s: Kubo %s, ledgerctl %s %s" % (what, kubo, ours.stdout.strip(), ours.stderr.strip()))
step("done", files=len(sizes), directories=len(checks))
