import Ledger

/// Reading UnixFS back out of the store: what a CID is (a file and its size, a directory and its
/// entries, a symlink), a path resolved through directories, and a file's bytes — all of them or a byte
/// range — block by block, each checked against its CID by the store (one block in memory at a time
/// beside the path from the root).
public struct ContentExport: Sendable {
    public let store: ContentStore
    /// Links followed, at most, from a root to a leaf: a DAG deeper than this is refused.
    public static let depthMax = 64

    /// Blocks read for one file, at most (`blocksPerFileMax` unless a test lowers it).
    public let blocksPerFile: Int

    /// Who reads: a private MiMei's blocks are `hidden` from a reader it was not granted to.
    public let access: ContentAccess

    public init(store: ContentStore, blocksPerFile: Int = ContentExport.blocksPerFileMax, access: ContentAccess = .all) {
        self.store = store
        self.blocksPerFile = blocksPerFile
        self.access = access
    }

    /// The same export, read by `access`.
    public func read(by access: ContentAccess) -> ContentExport { ContentExport(store: store, blocksPerFile: blocksPerFile, access: access) }

    public enum Failure: Error, CustomStringConvertible {
        case notFound(CID)
        /// A private MiMei's block, asked for by a reader without a capability: told as if it were absent.
        case hidden(CID)
        case noSuchPath(CID, String)
        case notAFile(CID, String)
        case malformed(CID, String)
        case store(ContentStore.Failure)

        public var description: String {
            switch self {
            case .notFound(let cid), .hidden(let cid): "block \(cid) is not in this node's content store"
            case .noSuchPath(let cid, let name): "\(cid) has no entry named \(name.prefix(256))"
            case .notAFile(let cid, let kind): "\(cid) is a \(kind), not a file"
            case .malformed(let cid, let why): "block \(cid) is not UnixFS: \(why)"
            case .store(let failure): "\(failure)"
            }
        }
    }

    public enum Entry: Sendable {
        case file(size: UInt64)
        case directory([DagPB.Link])
        case symlink(String)
    }

    /// Throws `hidden` when this reader may not see `cid` (held or not), without reading it.
    public func checkReadable(_ cid: CID) throws(Failure) {
        do { guard try store.readable(cid, by: access) else { throw Failure.hidden(cid) } } catch let failure as Failure { throw failure } catch {
            throw .store(error as? ContentStore.Failure ?? .sqlite("\(error)"))
        }
    }

    /// The block, or why not.
    public func block(_ cid: CID) throws(Failure) -> [UInt8] {
        do {
            guard try store.readable(cid, by: access) else { throw Failure.hidden(cid) }
            guard let found = try store.get(cid) else { throw Failure.notFound(cid) }
            return found
        } catch let failure as Failure { throw failure } catch let failure as ContentStore.Failure { throw .store(failure) } catch { throw .notFound(cid) }
    }

    /// A dag-pb node's links and UnixFS data.
    func node(_ cid: CID, _ block: [UInt8]) throws(Failure) -> (links: [DagPB.Link], unixfs: UnixFSData) {
        guard cid.codec == CID.dagPBCodec else { throw .malformed(cid, "codec \(cid.codec) is not dag-pb or raw") }
        do {
            let decoded = try DagPB.decode(block)
            return (decoded.links, try UnixFSData(decoding: decoded.data ?? []))
        } catch { throw .malformed(cid, "\(error)") }
    }

    public func entry(_ cid: CID) throws(Failure) -> Entry {
        let block = try self.block(cid)
        if cid.codec == CID.rawCodec { return .file(size: UInt64(block.count)) }
        let (links, unixfs) = try node(cid, block)
        switch unixfs.kind {
        case .file, .raw: return .file(size: unixfs.fileSize ?? UInt64(unixfs.data?.count ?? 0))
        case .directory: return .directory(links)
        case .symlink: return .symlink(String(decoding: unixfs.data ?? [], as: UTF8.self))
        case .hamtShard: return .directory(try shardEntries(cid, links, unixfs))
        case .metadata: throw .malformed(cid, "\(unixfs.kind) nodes are not served yet")
        }
    }

    /// Entries a sharded directory may list, at most (as many as `ipfs get` writes).
    public static let shardEntriesMax = 1 << 20

    /// A HAMT-sharded directory's entries, every sub-shard read (each once, at most `blocksPerFile`),
    /// sorted by the bytes of their names as a basic directory's are. Whoever built the DAG is not
    /// trusted: a node of more than 256 links, slots out of order or repeated, a sub-shard met twice, an
    /// entry whose name does not hash to the slots on its way, or more than `shardEntriesMax` entries is
    /// refused, so listing and lookup can never disagree and two blocks cannot list without bound.
    func shardEntries(_ root: CID, _ links: [DagPB.Link], _ unixfs: UnixFSData) throws(Failure) -> [DagPB.Link] {
        do { try HAMTShard.check(unixfs) } catch { throw .malformed(root, "\(error)") }
        var entries: [DagPB.Link] = []
        var pending: [(cid: CID, links: [DagPB.Link], path: [UInt8])] = [(root, links, [])]
        var seen: Set<CID> = [root]
        while let (shard, shardLinks, path) = pending.popLast() {
            guard shardLinks.count <= HAMTShard.fanout else { throw .malformed(shard, "a HAMT node of \(shardLinks.count) links") }
            var lastSlot = -1
            for link in shardLinks {
                let slot: Int, role: HAMTShard.LinkRole
                do { (slot, role) = (try HAMTShard.slot(of: link), try HAMTShard.role(of: link)) } catch { throw .malformed(shard, "\(error)") }
                guard slot > lastSlot else { throw .malformed(shard, "HAMT slots out of order or repeated") }
                lastSlot = slot
                switch role {
                case .entry(let name):
                    guard HAMTShard.hash(name).starts(with: path + [UInt8(slot)]) else { throw .malformed(shard, "a HAMT entry in a slot its name does not hash to") }
                    guard entries.count < Self.shardEntriesMax else { throw .malformed(root, "a sharded directory of more than \(Self.shardEntriesMax) entries") }
                    entries.append(DagPB.Link(cid: link.cid, name: name, totalSize: link.totalSize))
                case .shard:
                    guard path.count + 1 < HAMTShard.depthMax, seen.count <= blocksPerFile, seen.insert(link.cid).inserted else {
                        throw .malformed(root, "a HAMT deeper than \(HAMTShard.depthMax) levels, over \(blocksPerFile) nodes, or meeting a node twice")
                    }
                    let (childLinks, childData) = try node(link.cid, try block(link.cid))
                    guard childData.kind == .hamtShard else { throw .malformed(link.cid, "a HAMT sub-shard that is a \(childData.kind)") }
                    do { try HAMTShard.check(childData) } catch { throw .malformed(link.cid, "\(error)") }
                    pending.append((link.cid, childLinks, path + [UInt8(slot)]))
                }
            }
        }
        return entries.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// What kind of UnixFS node `cid` is, from its own block alone (a raw block is a file's data).
    public func kind(_ cid: CID) throws(Failure) -> UnixFSData.Kind {
        let data = try block(cid)
        return cid.codec == CID.rawCodec ? .raw : try node(cid, data).unixfs.kind
    }

    /// Whether `cid` is a HAMT shard's node (read from the store; false when not held or not one).
    public func isShard(_ cid: CID) -> Bool { (try? kind(cid)) == .hamtShard }

    /// The link named `name` in the directory `cid`: by name in a basic directory, by the name's hash
    /// through a HAMT's levels (reading only the sub-shards on its way); nil when there is none.
    func child(_ cid: CID, named name: String) throws(Failure) -> DagPB.Link? {
        let block = try self.block(cid)
        guard cid.codec == CID.dagPBCodec else { return nil }
        var (links, unixfs) = try node(cid, block)
        switch unixfs.kind {
        case .directory: return links.first { $0.name == name }
        case .hamtShard:
            var depth = 0
            while true {
                do { try HAMTShard.check(unixfs) } catch { throw .malformed(cid, "\(error)") }
                guard let prefix = HAMTShard.prefix(of: name, depth: depth) else { return nil }
                if let found = links.first(where: { $0.name == prefix + name }) { return DagPB.Link(cid: found.cid, name: name, totalSize: found.totalSize) }
                guard let shard = links.first(where: { $0.name == prefix }) else { return nil }
                (links, unixfs) = try node(shard.cid, try self.block(shard.cid))
                guard unixfs.kind == .hamtShard else { throw .malformed(shard.cid, "a HAMT sub-shard that is a \(unixfs.kind)") }
                depth += 1
            }
        default: return nil
        }
    }

    /// The CID at `path` under `root` (directory entries by name), with every CID passed on the way.
    public func resolve(_ root: CID, path: [String]) throws(Failure) -> (cid: CID, passed: [CID]) {
        var current = root
        var passed = [root]
        for name in path where !name.isEmpty {
            guard let link = try child(current, named: name) else { throw .noSuchPath(current, name) }
            current = link.cid
            passed.append(current)
        }
        return (current, passed)
    }

    /// Calls `body` with the file's bytes in `range` (all of them when nil), piece by piece, in order.
    public func file(_ root: CID, range: ClosedRange<UInt64>? = nil, _ body: ([UInt8]) async throws -> Void) async throws {
        var offset: UInt64 = 0, budget = blocksPerFile
        try await file(root, depth: 0, offset: &offset, budget: &budget, range: range, body)
    }

    /// Blocks read for one file, at most (4 Mi blocks: 1 TiB at 256 KiB a chunk), so that a DAG linking
    /// the same child over and over cannot make serving it cost without bound.
    public static let blocksPerFileMax = 1 << 22

    private func file(_ cid: CID, depth: Int, offset: inout UInt64, budget: inout Int, range: ClosedRange<UInt64>?,
                      _ body: ([UInt8]) async throws -> Void) async throws {
        guard depth <= Self.depthMax else { throw Failure.malformed(cid, "deeper than \(Self.depthMax) levels") }
        guard budget > 0 else { throw Failure.malformed(cid, "more than \(blocksPerFile) blocks") }
        budget -= 1
        let block = try self.block(cid)
        func emit(_ piece: [UInt8]) async throws {
            defer { offset &+= UInt64(piece.count) }
            guard let range else { return try await body(piece) }
            let start = offset, end = offset + UInt64(piece.count)  // [start, end)
            guard end > range.lowerBound, start <= range.upperBound else { return }
            let from = Int(max(start, range.lowerBound) - start), to = Int(min(end, range.upperBound + 1) - start)
            try await body(Array(piece[from..<to]))
        }
        if cid.codec == CID.rawCodec { return try await emit(block) }
        let (links, unixfs) = try node(cid, block)
        guard unixfs.kind == .file || unixfs.kind == .raw else { throw Failure.notAFile(cid, "\(unixfs.kind)") }
        if let data = unixfs.data, !data.isEmpty { try await emit(data) }
        // Children wholly outside the range are skipped by their sizes, unread.
        let sizes = unixfs.blockSizes.count == links.count ? unixfs.blockSizes : nil
        for (index, link) in links.enumerated() {
            if let range, let size = sizes?[index] {
                // Sizes come from the blocks: a sum past 2^64 is a lie, not a file.
                let (end, overflow) = offset.addingReportingOverflow(size)
                guard !overflow else { throw Failure.malformed(cid, "its block sizes add up past 2^64 bytes") }
                if end <= range.lowerBound || offset > range.upperBound {
                    offset = end
                    continue
                }
            }
            if let range, offset > range.upperBound { return }
            try await file(link.cid, depth: depth + 1, offset: &offset, budget: &budget, range: range, body)
        }
    }
}

extension ContentExport {
    /// What a CAR holds below the path's terminal (the trustless gateway's `dag-scope`).
    public enum Scope: String, Sendable, CaseIterable {
        /// Every block the terminal reaches.
        case all
        /// The terminal as a whole thing: a file's every block; a directory's or symlink's node alone.
        case entity
        /// The terminal's block alone.
        case block
    }

    /// Calls `body` with the blocks of a CAR response in order, each once: those `passed` on the way to
    /// the terminal (the last of them), then the terminal's `scope`, depth first in link order.
    public func carBlocks(passed: [CID], scope: Scope, _ body: (CID, [UInt8]) async throws -> Void) async throws {
        guard let terminal = passed.last else { return }
        var seen = Set<CID>()
        for cid in passed.dropLast() where seen.insert(cid).inserted { try await body(cid, try block(cid)) }
        var stack: [(CID, Int)] = [(terminal, 0)]
        var budget = blocksPerFile
        // Entity of a sharded directory: its root and every sub-shard, none of the entries'.
        var shards: Set<CID> = []
        while let (cid, depth) = stack.popLast() {
            guard seen.insert(cid).inserted else { continue }
            guard depth <= Self.depthMax else { throw Failure.malformed(cid, "deeper than \(Self.depthMax) levels") }
            guard budget > 0 else { throw Failure.malformed(cid, "more than \(blocksPerFile) blocks") }
            budget -= 1
            let data = try block(cid)
            try await body(cid, data)
            guard scope != .block, cid.codec == CID.dagPBCodec else { continue }
            // The whole DAG needs only the links: a dag-pb node need not be UnixFS (a database MiMei's root is not).
            if scope == .all {
                let links: [DagPB.Link]
                do { links = try DagPB.links(of: data) } catch { throw Failure.malformed(cid, "\(error)") }
                for link in links.reversed() { stack.append((link.cid, depth + 1)) }
                continue
            }
            let (links, unixfs) = try node(cid, data)
            if scope == .entity && (cid == terminal || shards.contains(cid)) && !(unixfs.kind == .file || unixfs.kind == .raw) {
                guard unixfs.kind == .hamtShard else { continue }
                for link in links.reversed() where (try? HAMTShard.role(of: link)) == .shard && shards.insert(link.cid).inserted {
                    stack.append((link.cid, depth + 1))
                }
                continue
            }
            for link in links.reversed() { stack.append((link.cid, depth + 1)) }
        }
    }
}
