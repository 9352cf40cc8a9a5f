import Foundation
import Ledger
import Storage
import Testing

/// The content store: blocks checked against their CIDs on the way in and on the way out, the size
/// limit, pins and garbage collection, and a store that survives being reopened.
@Suite struct ContentStoreTests {
    static func folder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "ledgerd-content-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A file imported into `store`, pinned or not; its root.
    static func add(_ bytes: [UInt8], to store: ContentStore, pin: Bool) throws -> CID {
        var importer = UnixFSImporter(options: try UnixFSImporter.Options(chunkSize: 1024))
        var blocks: [(CID, [UInt8])] = []
        for start in stride(from: 0, to: bytes.count, by: 1024) { importer.add(Array(bytes[start..<min(start + 1024, bytes.count)])) { blocks.append(($0, $1)) } }
        let root = importer.finish { blocks.append(($0, $1)) }
        try store.put(blocks)
        if pin { try store.pin(root.cid) }
        return root.cid
    }

    @Test func blocksAreCheckedOnTheWayInAndOut() throws {
        let path = try Self.folder("check") + "/content.sqlite"
        let store = try ContentStore(path: path)
        let block = Array("hello world\n".utf8)
        let cid = CID.raw(block)
        #expect(throws: ContentStore.Failure.mismatch(cid)) { try store.put(cid, Array("hello world!".utf8)) }
        #expect(try store.get(cid) == nil && store.bytesUsed == 0)
        try store.put(cid, block)
        try store.put(cid, block)  // held already: no second copy
        #expect(try store.get(cid) == block && store.bytesUsed == 12 && store.blockCount == 1)
        #expect(throws: ContentStore.Failure.self) { try store.put(CID.raw([UInt8](repeating: 1, count: ContentStore.blockBytesMax + 1)), [UInt8](repeating: 1, count: ContentStore.blockBytesMax + 1)) }

        // Damage the stored bytes behind the store's back: the read refuses them.
        let raw = try SQLiteDatabase(path: path)
        try raw.execute("UPDATE blocks SET data = X'00'")
        #expect(throws: ContentStore.Failure.damaged(cid)) { _ = try store.get(cid) }
    }

    @Test func theLimitHoldsAndSurvivesReopening() throws {
        let path = try Self.folder("limit") + "/content.sqlite"
        let store = try ContentStore(path: path, bytesMax: 3_000)
        let first = try Self.add([UInt8](repeating: 1, count: 2_000), to: store, pin: true)
        #expect(throws: ContentStore.Failure.self) { _ = try Self.add([UInt8](repeating: 2, count: 2_000), to: store, pin: true) }
        let reopened = try ContentStore(path: path, bytesMax: 3_000)
        #expect(reopened.bytesUsed == store.bytesUsed && reopened.bytesUsed > 0)
        #expect(try reopened.get(first) != nil && reopened.pins().map(\.cid) == [first])
    }

    /// The daemon and ledgerctl open the same file: what one adds or collects, the other's accounting and
    /// collection count see at their next write.
    @Test func twoProcessesSharingTheStoreKeepItsAccountingRight() throws {
        let path = try Self.folder("shared") + "/content.sqlite"
        let daemon = try ContentStore(path: path), cli = try ContentStore(path: path)
        _ = try Self.add(Array(repeating: 1, count: 1_000), to: cli, pin: false)
        _ = try Self.add(Array(repeating: 2, count: 2_000), to: daemon, pin: true)
        #expect(try ContentStore(path: path).bytesUsed == daemon.bytesUsed && daemon.bytesUsed > cli.bytesUsed)
        let before = daemon.collections
        let freed = try cli.collectGarbage()
        #expect(freed.blocks == 1 && daemon.collections == before + 1)
        _ = try Self.add(Array(repeating: 3, count: 500), to: daemon, pin: true)
        // The same two pinned files alone in a fresh store: the shared one counts exactly what it holds.
        let alone = try ContentStore(path: try Self.folder("alone") + "/content.sqlite")
        _ = try Self.add(Array(repeating: 2, count: 2_000), to: alone, pin: true)
        _ = try Self.add(Array(repeating: 3, count: 500), to: alone, pin: true)
        #expect(try ContentStore(path: path).bytesUsed == alone.bytesUsed && daemon.bytesUsed == alone.bytesUsed)
    }

    @Test func garbageCollectionKeepsWhatPinsReachAndNothingElse() throws {
        let store = try ContentStore(path: try Self.folder("gc") + "/content.sqlite")
        let kept = try Self.add((0..<5_000).map { UInt8($0 % 251) }, to: store, pin: true)
        let dropped = try Self.add((0..<3_000).map { UInt8($0 % 13) }, to: store, pin: false)
        let direct = try Self.add((0..<3_000).map { UInt8($0 % 7) }, to: store, pin: false)
        try store.pin(direct, recursive: false)
        let before = store.blockCount
        let removed = try store.collectGarbage()
        #expect(removed.blocks > 0 && store.blockCount == before - removed.blocks)
        #expect(try store.get(kept) != nil && store.get(dropped) == nil && store.get(direct) != nil)
        // Every block of the recursively pinned file is still there: its children are reachable.
        let links = try DagPB.links(of: try #require(try store.get(kept)))
        #expect(links.count == 5 && links.allSatisfy { (try? store.has($0.cid)) == true })
        // The directly pinned root stays, its children go.
        #expect(try DagPB.links(of: try #require(try store.get(direct))).allSatisfy { (try? store.has($0.cid)) == false })
        #expect(try store.unpin(kept) && !store.unpin(kept))
        try store.collectGarbage()
        #expect(try store.get(kept) == nil && store.blockCount == 1)
    }

    @Test func hostileDagPBIsRefusedNotTrapped() throws {
        for bytes: [UInt8] in [[0x12], [0x12, 0x05, 0x0a], [0x0b], [0x12, 0x02, 0x0a, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                               [0x12, 0x04, 0x1a, 0x01, 0x01, 0x00], [0x00]] {
            #expect(throws: ContentError.self) { _ = try DagPB.links(of: bytes) }
        }
        #expect(try DagPB.links(of: [0x0a, 0x02, 0x08, 0x01]).isEmpty)
    }

    /// Blocks whose sizes lie (adding up past 2^64) or that link one child over and over are refused
    /// when served, never a trap or an endless walk.
    @Test func hostileFileNodesAreRefusedWhenServed() async throws {
        let store = try ContentStore(path: try Self.folder("hostile") + "/content.sqlite")
        let leaf = Array("x".utf8)
        let leafCID = CID.raw(leaf)
        try store.put(leafCID, leaf)
        func node(_ links: Int, sizes: [UInt64], child: CID, childSize: UInt64) throws -> CID {
            let block = DagPB.encode(links: (0..<links).map { _ in DagPB.Link(cid: child, totalSize: childSize) },
                                     data: UnixFSData(kind: .file, fileSize: 1, blockSizes: sizes).encoded)
            let cid = CID.v0(block)
            try store.put(cid, block)
            return cid
        }
        let lying = try node(2, sizes: [UInt64.max, 5], child: leafCID, childSize: 1)
        let export = ContentExport(store: store, blocksPerFile: 10_000)
        await #expect(throws: ContentExport.Failure.self) { try await export.file(lying, range: 10...20) { _ in } }
        // 174 links to one child, nested five deep, would be 174^5 reads; the budget stops the walk first.
        var wide = leafCID
        for _ in 0..<5 { wide = try node(174, sizes: [], child: wide, childSize: 1) }
        var read = 0
        await #expect(throws: ContentExport.Failure.self) { try await export.file(wide) { read += $0.count } }
        #expect(read <= 10_000)
    }

    @Test func privateBlocksAreMarkedAsTheyAreWrittenAndHiddenFromReadersWithoutAGrant() async throws {
        let store = try ContentStore(path: try Self.folder("private") + "/content.sqlite")
        let mimei = ID.derived("mimei", data: [7]), other = ID.derived("mimei", data: [8])
        let publicRoot = try Self.add(Array(repeating: 1, count: 3_000), to: store, pin: true)
        var importer = UnixFSImporter(options: try UnixFSImporter.Options(chunkSize: 1024))
        var blocks: [(CID, [UInt8])] = []
        for start in stride(from: 0, to: 3_000, by: 1024) { importer.add(Array(repeating: 2, count: min(1024, 3_000 - start))) { blocks.append(($0, $1)) } }
        let root = importer.finish { blocks.append(($0, $1)) }.cid
        try store.put(blocks, privateTo: mimei)
        try store.pin(root)
        for (cid, _) in blocks {
            #expect(try store.privateOwners(cid) == [mimei])
            #expect(try store.readable(cid, by: .all) && store.readable(cid, by: .granted([mimei])))
            #expect(try !store.readable(cid, by: .stranger) && !store.readable(cid, by: .granted([other])))
        }
        #expect(try store.readable(publicRoot, by: .stranger) && store.privateOwners(publicRoot).isEmpty)
        // The export tells a stranger the block is not held, in the same words as for a missing one.
        let stranger = ContentExport(store: store).read(by: .stranger)
        #expect(throws: ContentExport.Failure.self) { _ = try stranger.entry(root) }
        do { _ = try stranger.block(root) } catch { #expect("\(error)" == "\(ContentExport.Failure.notFound(root))") }
        var read: [UInt8] = []
        try await ContentExport(store: store).read(by: .granted([mimei])).file(root) { read += $0 }
        #expect(read == Array(repeating: 2, count: 3_000))
        // Marking a held DAG marks every block under it; collecting unpinned blocks drops their marks.
        try store.markPrivate(publicRoot, to: other)
        #expect(try store.privateOwners(publicRoot) == [other])
        try store.unpin(publicRoot)
        try store.collectGarbage()
        #expect(try store.privateOwners(publicRoot).isEmpty && store.privateOwners(root) == [mimei])
    }

    @Test func aShardedDirectoryIsReadThroughItsShardsAndABadShardIsRefused() throws {
        let store = try ContentStore(path: try Self.folder("hamt") + "/content.sqlite")
        let file = try Self.add(Array("x".utf8), to: store, pin: false)
        let fileNode = UnixFSImporter.Node(cid: file, totalSize: 9, fileSize: 1)
        var blocks: [(CID, [UInt8])] = []
        let names = (0..<7_000).map { "entry-\($0)" }
        let root = try UnixFSDirectory.node(names.map { ($0, fileNode) }, cidVersion: 0) { blocks.append(($0, $1)) }
        try store.put(blocks)
        let export = ContentExport(store: store)
        guard case .directory(let links) = try export.entry(root.cid) else { Issue.record("not a directory"); return }
        #expect(links.map(\.name) == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } && links.allSatisfy { $0.cid == file })
        for name in ["entry-0", "entry-3141", "entry-6999"] { #expect(try export.resolve(root.cid, path: [name]).cid == file) }
        #expect(throws: ContentExport.Failure.self) { try export.resolve(root.cid, path: ["entry-7000"]) }
        // A shard of another fanout is not read as one of ours.
        let odd = DagPB.encode(links: [], data: UnixFSData(kind: .hamtShard, data: [1], hashType: 0x22, fanout: 16).encoded)
        try store.put(CID.v0(odd), odd)
        #expect(throws: ContentExport.Failure.self) { try export.entry(CID.v0(odd)) }
        #expect(throws: ContentExport.Failure.self) { try export.resolve(CID.v0(odd), path: ["a"]) }
    }

    /// Hostile shards, as a peer could send them: each is refused in one error, none lists without bound.
    @Test func hostileShardsAreRefused() throws {
        let store = try ContentStore(path: try Self.folder("hamt-hostile") + "/content.sqlite")
        let file = try Self.add(Array("x".utf8), to: store, pin: false)
        let export = ContentExport(store: store)
        func shard(_ links: [DagPB.Link]) throws -> CID {
            let block = DagPB.encode(links: links, data: UnixFSData(kind: .hamtShard, data: [1], hashType: 0x22, fanout: 256).encoded)
            try store.put(CID.v0(block), block)
            return CID.v0(block)
        }
        func slotted(_ name: String) -> String { HAMTShard.prefix(Int(HAMTShard.hash(name)[0])) + name }
        // A fair sub-shard of one entry placed by its hash at depth 1.
        let name = "a"
        let hash = HAMTShard.hash(name)
        let sub = try shard([DagPB.Link(cid: file, name: HAMTShard.prefix(Int(hash[1])) + name, totalSize: 9)])
        let top = HAMTShard.prefix(Int(hash[0]))
        #expect(try export.resolve(try shard([DagPB.Link(cid: sub, name: top, totalSize: 60)]), path: [name]).cid == file)
        let hostile: [(String, [DagPB.Link])] = [
            ("one sub-shard twice", [DagPB.Link(cid: sub, name: "00", totalSize: 1), DagPB.Link(cid: sub, name: "01", totalSize: 1)]),
            ("a slot twice", [DagPB.Link(cid: file, name: slotted("b"), totalSize: 1), DagPB.Link(cid: file, name: slotted("b"), totalSize: 1)]),
            ("an entry in a slot its name does not hash to", [DagPB.Link(cid: file, name: HAMTShard.prefix((Int(HAMTShard.hash("c")[0]) + 1) % 256) + "c", totalSize: 1)]),
            ("more links than slots", (0..<300).map { DagPB.Link(cid: file, name: slotted("n\($0)"), totalSize: 1) }),
            ("a slot that is not hex", [DagPB.Link(cid: file, name: "zz", totalSize: 1)]),
        ]
        for (what, links) in hostile {
            #expect(throws: ContentExport.Failure.self, "\(what)") { _ = try export.entry(try shard(links)) }
        }
    }
}
