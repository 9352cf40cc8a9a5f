/// UnixFS directories and symlinks as `ipfs add -r` makes them (a basic directory, or a HAMT above the
/// sharding threshold): a basic directory is a dag-pb
/// node whose links name the entries, sorted by the bytes of their names as go-merkledag sorts them, with
/// UnixFS data `{type: directory}`; a symlink is a node of UnixFS data `{type: symlink, data: target}`.
public enum UnixFSDirectory {
    /// Kubo switches a directory to a HAMT shard once the sum over its links of name bytes plus CID bytes
    /// reaches 256 KiB (boxo 0.11's `HAMTShardingSize`, compared with `>=`): `HAMTShard` makes those.
    public static let shardingThresholdBytes = 256 * 1024

    public typealias Emit = UnixFSImporter.Emit

    /// The directory node over `entries` (names unique, none empty, none holding "/").
    public static func node(_ entries: [(name: String, node: UnixFSImporter.Node)], cidVersion: Int, emit: Emit) throws -> UnixFSImporter.Node {
        let estimated = entries.reduce(0) { $0 + $1.name.utf8.count + $1.node.cid.bytes.count }
        if estimated >= shardingThresholdBytes { return try HAMTShard.node(entries, cidVersion: cidVersion, emit: emit) }
        let sorted = entries.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        let links = sorted.map { DagPB.Link(cid: $0.node.cid, name: $0.name, totalSize: $0.node.totalSize) }
        let block = DagPB.encode(links: links, data: UnixFSData(kind: .directory).encoded)
        let cid = cidVersion == 0 ? CID.v0(block) : CID.dagPB(block)
        try emit(cid, block)
        return UnixFSImporter.Node(cid: cid, totalSize: links.reduce(UInt64(block.count)) { $0 + $1.totalSize }, fileSize: 0)
    }

    /// A symlink to `target`, kept as the link's text (not followed).
    public static func symlink(_ target: String, cidVersion: Int, emit: Emit) rethrows -> UnixFSImporter.Node {
        let block = DagPB.encode(links: [], data: UnixFSData(kind: .symlink, data: Array(target.utf8)).encoded)
        let cid = cidVersion == 0 ? CID.v0(block) : CID.dagPB(block)
        try emit(cid, block)
        return UnixFSImporter.Node(cid: cid, totalSize: UInt64(block.count), fileSize: 0)
    }
}
