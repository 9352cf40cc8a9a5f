/// HAMT-sharded UnixFS directories, as boxo 0.11 (Kubo 0.22) makes and reads them: a directory whose
/// links' names and CIDs add up to `UnixFSDirectory.shardingThresholdBytes` or more becomes a tree of
/// dag-pb nodes of UnixFS data {type: HAMTShard, data: bitfield, hashType: 0x22 (murmur3-x64-64), fanout:
/// 256}. An entry sits in the slot its name's hash gives at each level (byte `depth` of the 64-bit hash,
/// eight levels at most); two entries in one slot push both one level down into a sub-shard. A node's
/// links are its occupied slots in order, named by the slot's two uppercase hex digits, followed by the
/// entry's name for an entry (a sub-shard's name is the digits alone); its bitfield sets bit `slot` of a
/// big-endian integer, leading zero bytes dropped (go-bitfield's `Bytes`).
public enum HAMTShard {
    public static let fanout = 256
    public static let hashType: UInt64 = 0x22
    static let prefixLength = 2
    public static let depthMax = 8

    public static func hash(_ name: String) -> [UInt8] { Murmur3.x64_64(Array(name.utf8)) }

    public static func prefix(_ slot: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[slot >> 4], digits[slot & 15]])
    }

    private indirect enum Slot {
        case entry(name: String, hash: [UInt8], node: UnixFSImporter.Node)
        case shard([Int: Slot])
    }

    /// The root of the shard tree over `entries` (names unique); every node goes to `emit`, children first.
    public static func node(_ entries: [(name: String, node: UnixFSImporter.Node)], cidVersion: Int, emit: UnixFSImporter.Emit) throws -> UnixFSImporter.Node {
        var root: [Int: Slot] = [:]
        for entry in entries { try insert(.entry(name: entry.name, hash: hash(entry.name), node: entry.node), into: &root, depth: 0) }
        return try write(root, cidVersion: cidVersion, emit: emit)
    }

    private static func insert(_ slot: Slot, into shard: inout [Int: Slot], depth: Int) throws {
        guard depth < depthMax, case .entry(_, let hash, _) = slot else { throw ContentError.invalidOption("a sharded directory deeper than \(depthMax) levels") }
        let index = Int(hash[depth])
        switch shard[index] {
        case nil:
            shard[index] = slot
        case .entry(let name, let otherHash, let node)?:
            var child: [Int: Slot] = [:]
            try insert(.entry(name: name, hash: otherHash, node: node), into: &child, depth: depth + 1)
            try insert(slot, into: &child, depth: depth + 1)
            shard[index] = .shard(child)
        case .shard(var child)?:
            shard[index] = nil
            try insert(slot, into: &child, depth: depth + 1)
            shard[index] = .shard(child)
        }
    }

    private static func write(_ shard: [Int: Slot], cidVersion: Int, emit: UnixFSImporter.Emit) throws -> UnixFSImporter.Node {
        var links: [DagPB.Link] = []
        var bitfield = [UInt8](repeating: 0, count: fanout / 8)
        for index in shard.keys.sorted() {
            bitfield[bitfield.count - 1 - index / 8] |= 1 << UInt8(index % 8)
            switch shard[index] {
            case .entry(let name, _, let node)?:
                links.append(DagPB.Link(cid: node.cid, name: prefix(index) + name, totalSize: node.totalSize))
            case .shard(let child)?:
                let written = try write(child, cidVersion: cidVersion, emit: emit)
                links.append(DagPB.Link(cid: written.cid, name: prefix(index), totalSize: written.totalSize))
            case nil:
                continue
            }
        }
        let data = UnixFSData(kind: .hamtShard, data: Array(bitfield.drop { $0 == 0 }), hashType: hashType, fanout: UInt64(fanout))
        let block = DagPB.encode(links: links, data: data.encoded)
        let cid = cidVersion == 0 ? CID.v0(block) : CID.dagPB(block)
        try emit(cid, block)
        return UnixFSImporter.Node(cid: cid, totalSize: links.reduce(UInt64(block.count)) { $0 + $1.totalSize }, fileSize: 0)
    }

    /// Checks that a shard node is one this code reads (murmur3-x64-64, fanout 256).
    public static func check(_ unixfs: UnixFSData) throws(ContentError) {
        guard unixfs.hashType == hashType, unixfs.fanout == UInt64(fanout) else {
            throw .malformed("a HAMT shard of hash \(unixfs.hashType.map { String($0) } ?? "none") and fanout \(unixfs.fanout.map { String($0) } ?? "none") (0x22 and 256 are read)")
        }
    }

    /// What one of a shard node's links is: a sub-shard (its name is the slot's digits alone) or an entry
    /// of that name.
    public enum LinkRole: Equatable {
        case shard
        case entry(String)
    }

    public static func role(of link: DagPB.Link) throws(ContentError) -> LinkRole {
        let bytes = Array(link.name.utf8)
        guard bytes.count >= prefixLength, bytes.prefix(prefixLength).allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }) else {
            throw .malformed("a HAMT link named \(link.name.prefix(64)) has no slot prefix")
        }
        return bytes.count == prefixLength ? .shard : .entry(String(decoding: bytes.dropFirst(prefixLength), as: UTF8.self))
    }

    /// The slot a link's two hex digits name.
    public static func slot(of link: DagPB.Link) throws(ContentError) -> Int {
        let bytes = Array(link.name.utf8.prefix(prefixLength))
        func digit(_ byte: UInt8) -> Int? {
            switch byte {
            case 0x30...0x39: Int(byte - 0x30)
            case 0x41...0x46: Int(byte - 0x41 + 10)
            default: nil
            }
        }
        guard bytes.count == prefixLength, let high = digit(bytes[0]), let low = digit(bytes[1]) else {
            throw .malformed("a HAMT link named \(link.name.prefix(64)) has no slot prefix")
        }
        return high << 4 | low
    }

    /// The slot prefix `name` takes at `depth`, for a lookup.
    public static func prefix(of name: String, depth: Int) -> String? {
        depth < depthMax ? prefix(Int(hash(name)[depth])) : nil
    }
}
