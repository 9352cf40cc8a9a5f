import Foundation
import Ledger
import Storage
import Testing

/// Content between real ledgerd processes on loopback. A holds files; C knows A; B knows only C. B finds
/// A as the provider of A's pinned root through C's DHT (ADD_PROVIDER, GET_PROVIDERS), fetches it over
/// Bitswap through its own gateway, writes it with `ledgerctl ipfs get` and lists it with `ipfs ls`; the
/// CARs B serves are decoded by an independent decoder (PyPI ipfs-car-decoder); content nobody has
/// answers 404 while peers answer DONT_HAVE, 504 when there is nobody to ask before --fetch-timeout; and
/// a directory whose entry names would write outside the target is refused by `ipfs get`.
@Suite(.serialized) struct ContentNetworkTests {
    static var carPython: String { Paths.root.appendingPathComponent(".build/car-venv/bin/python").path }

    @Test func aFileOnlyOneNodeHoldsIsFoundThroughTheDHTFetchedOverBitswapAndServed() async throws {
        let a = try NodeProcess(name: "content-a")
        let folder = Paths.temporaryFolder("content-files")
        var generator = SystemRandomNumberGenerator()
        let big = (0..<(2 * 1_048_576 + 333)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(big).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let tree = folder + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/inner", withIntermediateDirectories: true)
        try Data("hello world\n".utf8).write(to: URL(fileURLWithPath: tree + "/hello.txt"))
        try Data(big.prefix(300_000)).write(to: URL(fileURLWithPath: tree + "/inner/part.bin"))
        func add(_ node: NodeProcess, _ arguments: [String]) throws -> String {
            let result = try node.ctl(["ipfs", "add", "-Q"] + arguments)
            guard result.status == 0 else { throw TestFailure("ipfs add failed: \(result.error)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let file = try add(a, [folder + "/big.bin"]), directory = try add(a, ["-r", tree])
        try a.start()
        defer { a.stop() }
        let c = try NodeProcess(name: "content-c", genesisOf: a)
        try c.start(extra: ["--bootstrap", a.p2pAddress])
        defer { c.stop() }
        // A announces its pins to the DHT within a round of its 5 s loop, now that it has C as a peer.
        try await P2PNetworkTests.waitUntilAsync("C holds A's provider record") {
            let providers = try c.ctlJSON(["dht", "findprovs", file])["providers"] as? [[String: Any]] ?? []
            return providers.contains { $0["peer_id"] as? String == a.peerID }
        }
        let b = try NodeProcess(name: "content-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", c.p2pAddress, "--fetch-timeout", "30"])
        defer { b.stop() }
        let found = try b.ctlJSON(["dht", "findprovs", directory])["providers"] as? [[String: Any]] ?? []
        #expect(found.contains { $0["peer_id"] as? String == a.peerID }, "B did not find A through the DHT: \(found)")

        // B's gateway fetches the file it never had, and serves every byte, ranges included.
        let served = try await HTTP.get(b.url + "/ipfs/" + file)
        #expect(served.status == 200 && Array(served.body) == big, "\(served.status) \(served.text.prefix(300))")
        let range = try await HTTP.request("GET", b.url + "/ipfs/" + file, headers: ["Range": "bytes=-100"])
        #expect(range.status == 206 && Array(range.body) == Array(big.suffix(100)))
        // ledgerctl's repo gc (another process) removes the unpinned copy: the gateway notices and fetches again.
        #expect(try b.ctl(["ipfs", "repo", "gc"]).status == 0)
        let refetched = try await HTTP.get(b.url + "/ipfs/" + file)
        #expect(refetched.status == 200 && Array(refetched.body) == big, "\(refetched.status) \(refetched.text.prefix(300))")
        // ledgerctl writes the directory out, and lists it.
        let out = Paths.temporaryFolder("content-out") + "/tree"
        let got = try b.ctl(["ipfs", "get", directory, "-o", out])
        #expect(got.status == 0, "\(got.error)")
        #expect(FileManager.default.contents(atPath: out + "/hello.txt") == Data("hello world\n".utf8))
        #expect(FileManager.default.contents(atPath: out + "/inner/part.bin") == Data(big.prefix(300_000)))
        let listed = try b.ctlJSON(["ipfs", "ls", directory])["links"] as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["name"] as? String } == ["hello.txt", "inner"])
        let again = try b.ctl(["ipfs", "get", directory, "-o", out])
        #expect(again.status != 0 && again.error.contains("exists already"))

        // The CAR of the directory, decoded by software others wrote: the same tree, every block checked.
        let car = try await HTTP.get(b.url + "/ipfs/" + directory + "?format=car")
        #expect(car.status == 200 && car.headers["content-type"] == "application/vnd.ipld.car; version=1" && car.headers["x-content-type-options"] == "nosniff")
        let carPath = Paths.temporaryFolder("content-car") + "/tree.car"
        try car.body.write(to: URL(fileURLWithPath: carPath))
        let decodedDir = Paths.temporaryFolder("content-decoded")
        let decoded = try run(Self.carPython, [Paths.root.appendingPathComponent("Tests/p2p/car_decode.py").path, carPath, directory, decodedDir, "tree"])
        #expect(decoded.status == 0, "\(decoded.error.suffix(1_000))")
        let summary = try JSONSerialization.jsonObject(with: Data(decoded.output.utf8)) as? [String: Any] ?? [:]
        #expect(summary["roots"] as? [String] == [directory] && summary["version"] as? Int == 1)
        #expect((summary["checked"] as? Int ?? 0) >= 5 && (summary["blocks"] as? [String])?.first == directory)
        #expect(FileManager.default.contents(atPath: decodedDir + "/tree/inner/part.bin") == Data(big.prefix(300_000)))
        // dag-scope: the block alone, and the directory as an entity (its node, not its files).
        let block = try await HTTP.get(b.url + "/ipfs/" + directory + "?format=car&dag-scope=block")
        let entity = try await HTTP.get(b.url + "/ipfs/" + directory + "/inner?format=car&dag-scope=entity")
        var reader = CARv1.Reader()
        reader.feed(Array(block.body))
        var blockCIDs: [CID] = []
        while let (cid, _) = try reader.next() { blockCIDs.append(cid) }
        #expect(blockCIDs.map(\.text) == [directory] && reader.atEnd)
        reader = CARv1.Reader()
        reader.feed(Array(entity.body))
        var entityCIDs: [CID] = []
        while let (cid, _) = try reader.next() { entityCIDs.append(cid) }
        #expect(entityCIDs.count == 2 && entityCIDs.first?.text == directory, "the path's blocks, then the inner directory's node")
        let badScope = try await HTTP.get(b.url + "/ipfs/" + directory + "?format=car&dag-scope=everything")
        #expect(badScope.status == 400)
        let carTwo = try await HTTP.request("GET", b.url + "/ipfs/" + directory, headers: ["Accept": "application/vnd.ipld.car; version=2"])
        #expect(carTwo.status == 406)

        // Content nobody holds: every peer answers DONT_HAVE, so 404 at once.
        let nowhere = try b.ctl(["ipfs", "add", "-Q", "-n", "/etc/hostname"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let missing = try await HTTP.get(b.url + "/ipfs/" + nowhere)
        #expect(missing.status == 404, "\(missing.text)")
        #expect(try a.ctlJSON(["status"])["height"] != nil, "A still answers")
    }

    @Test func withNobodyToAskTheGatewayAnswers504AtItsDeadline() async throws {
        let lonely = try NodeProcess(name: "content-lonely")
        try lonely.start(extra: ["--fetch-timeout", "1"])
        defer { lonely.stop() }
        let cid = try lonely.ctl(["ipfs", "add", "-Q", "-n", "/etc/hostname"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try await HTTP.get(lonely.url + "/ipfs/" + cid)
        #expect(answer.status == 504 && answer.text.contains("gateway_timeout"), "\(answer.status) \(answer.text)")
        let listed = try lonely.ctl(["ipfs", "get", cid, "-o", Paths.temporaryFolder("content-504") + "/x"])
        #expect(listed.status != 0 && listed.error.contains("in time"), "\(listed.error)")
    }

    @Test func ipfsGetRefusesEntryNamesThatWouldWriteOutsideTheTarget() async throws {
        let node = try NodeProcess(name: "content-names")
        let store = try ContentStore(path: node.data + "/content.sqlite")
        // A directory someone built by hand: an entry named "../escaped", and one a symlink then a file.
        let leaf = DagPB.encode(links: [], data: UnixFSData(kind: .file, data: Array("pwned".utf8), fileSize: 5).encoded)
        let leafCID = CID.v0(leaf)
        let escaping = DagPB.encode(links: [DagPB.Link(cid: leafCID, name: "../escaped", totalSize: UInt64(leaf.count))],
                                    data: UnixFSData(kind: .directory).encoded)
        let symlink = DagPB.encode(links: [], data: UnixFSData(kind: .symlink, data: Array("/tmp".utf8)).encoded)
        let twice = DagPB.encode(links: [DagPB.Link(cid: CID.v0(symlink), name: "x", totalSize: 10), DagPB.Link(cid: leafCID, name: "x", totalSize: 10)],
                                 data: UnixFSData(kind: .directory).encoded)
        try store.put([(leafCID, leaf), (CID.v0(escaping), escaping), (CID.v0(symlink), symlink), (CID.v0(twice), twice)])
        let target = Paths.temporaryFolder("content-escape")
        for root in [CID.v0(escaping), CID.v0(twice)] {
            let result = try node.ctl(["ipfs", "get", root.text, "-o", target + "/out-\(root.text.suffix(4))"])
            #expect(result.status != 0 && result.error.contains("cannot be written safely"), "\(result.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: target + "/escaped"))
    }

    /// A sharded directory only A holds: B resolves a name through its shards, lists it (every sub-shard
    /// fetched together) and `ipfs ls` lists it from the CAR of its entity.
    @Test func aShardedDirectoryIsFetchedThroughItsShards() async throws {
        let a = try NodeProcess(name: "hamt-a")
        let site = Paths.temporaryFolder("hamt-net") + "/many"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        for index in 0..<7_000 { try Data("entry \(index)\n".utf8).write(to: URL(fileURLWithPath: site + "/file-\(index).txt")) }
        let root = try a.ctl(["ipfs", "add", "-Q", "-r", site]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "hamt-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "60"])
        defer { b.stop() }
        #expect(try await HTTP.get(b.url + "/ipfs/" + root + "/file-4242.txt").text == "entry 4242\n")
        let listing = try await HTTP.get(b.url + "/ipfs/" + root + "/")
        #expect(listing.status == 200 && listing.text.contains("file-6999.txt") && listing.text.contains("file-0.txt"))
        let c = try NodeProcess(name: "hamt-c", genesisOf: a)
        try c.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "60"])
        defer { c.stop() }
        let listed = try c.ctlJSON(["ipfs", "ls", root])["links"] as? [[String: Any]] ?? []
        #expect(listed.count == 7_000)
    }
}
