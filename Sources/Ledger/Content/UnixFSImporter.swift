/// `ipfs add` for one file, as Kubo does it (boxo's balanced layout), fed a chunk at a time so that
/// memory stays flat whatever the file's size: each chunk becomes a leaf, every `linksMax` nodes of a
/// level become a parent on the level above, and `finish` closes the levels bottom-up into one root.
/// Every block is handed to `emit` as it is made (the store, or nothing for `--only-hash`).
///
/// Leaves are dag-pb UnixFS file nodes (CIDv0, Kubo's default) or raw blocks (`rawLeaves`, implied by
/// CIDv1). Parents are dag-pb UnixFS file nodes listing their children's links and file sizes. The
/// layout equals boxo's `balanced.Layout`: a single-chunk file is its leaf, and a level that is not the
/// top is always wrapped, even around a single node, before the level above closes.
public struct UnixFSImporter: Sendable {
    public struct Options: Sendable, Equatable {
        /// Kubo's `size-262144` chunker.
        public static let chunkSizeDefault = 262_144
        /// Kubo refuses larger chunks (a block must fit in a Bitswap message).
        public static let chunkSizeMax = 1_048_576
        /// boxo's `helpers.DefaultLinksPerBlock`.
        public static let linksMax = 174

        public var chunkSize: Int
        public var cidVersion: Int
        public var rawLeaves: Bool

        /// `cidVersion` 1 implies raw leaves unless `rawLeaves` says otherwise, as in `ipfs add`.
        public init(chunkSize: Int = Options.chunkSizeDefault, cidVersion: Int = 0, rawLeaves: Bool? = nil) throws(ContentError) {
            guard (1...Options.chunkSizeMax).contains(chunkSize) else {
                throw .invalidOption("chunk size must be 1 to \(Options.chunkSizeMax) bytes, not \(chunkSize)")
            }
            guard cidVersion == 0 || cidVersion == 1 else { throw .invalidOption("CID version must be 0 or 1, not \(cidVersion)") }
            self.chunkSize = chunkSize
            self.cidVersion = cidVersion
            self.rawLeaves = rawLeaves ?? (cidVersion == 1)
        }

        /// Parses Kubo's `--chunker` value: `size-N` (the only chunker offered here).
        public static func chunkSize(parsing chunker: String) throws(ContentError) -> Int {
            guard chunker.hasPrefix("size-"), let size = Int(chunker.dropFirst(5)), size > 0 else {
                throw .invalidOption("chunker must be size-N (e.g. size-262144), not \(chunker)")
            }
            return size
        }
    }

    /// A node made and linked from its parent: its CID, the size of its DAG, and its file bytes.
    public struct Node: Sendable, Equatable {
        public var cid: CID
        public var totalSize: UInt64
        public var fileSize: UInt64

        public init(cid: CID, totalSize: UInt64, fileSize: UInt64) {
            self.cid = cid
            self.totalSize = totalSize
            self.fileSize = fileSize
        }
    }

    public typealias Emit = (CID, [UInt8]) throws -> Void

    public let options: Options
    /// Nodes waiting for their parent, per level (0: leaves). Each level holds fewer than `linksMax`.
    private var levels: [[Node]] = [[]]

    public init(options: Options) {
        self.options = options
    }

    /// One chunk of the file: exactly `chunkSize` bytes, except the last, which may be shorter.
    public mutating func add(_ chunk: [UInt8], emit: Emit) rethrows {
        let leaf = try makeLeaf(chunk, emit: emit)
        try push(leaf, level: 0, emit: emit)
    }

    /// The root once every chunk was added (an empty file is one empty leaf).
    public mutating func finish(emit: Emit) rethrows -> Node {
        if levels.allSatisfy(\.isEmpty) { return try makeLeaf([], emit: emit) }
        var level = 0
        while true {
            let higher = levels[(level + 1)...].contains { !$0.isEmpty }
            let nodes = levels[level]
            levels[level] = []
            if !higher && nodes.count == 1 { return nodes[0] }
            if !nodes.isEmpty { append(try makeParent(nodes, emit: emit), level: level + 1) }
            level += 1
        }
    }

    private mutating func push(_ node: Node, level: Int, emit: Emit) rethrows {
        append(node, level: level)
        if levels[level].count == Options.linksMax {
            let parent = try makeParent(levels[level], emit: emit)
            levels[level] = []
            try push(parent, level: level + 1, emit: emit)
        }
    }

    private mutating func append(_ node: Node, level: Int) {
        while levels.count <= level { levels.append([]) }
        levels[level].append(node)
    }

    private func makeLeaf(_ chunk: [UInt8], emit: Emit) rethrows -> Node {
        if options.rawLeaves {
            let cid = CID.raw(chunk)
            try emit(cid, chunk)
            return Node(cid: cid, totalSize: UInt64(chunk.count), fileSize: UInt64(chunk.count))
        }
        let block = DagPB.encode(links: [], data: UnixFSData(kind: .file, data: chunk, fileSize: UInt64(chunk.count)).encoded)
        let cid = dagPB(block)
        try emit(cid, block)
        return Node(cid: cid, totalSize: UInt64(block.count), fileSize: UInt64(chunk.count))
    }

    private func makeParent(_ children: [Node], emit: Emit) rethrows -> Node {
        let fileSize = children.reduce(0) { $0 + $1.fileSize }
        let data = UnixFSData(kind: .file, fileSize: fileSize, blockSizes: children.map(\.fileSize)).encoded
        let block = DagPB.encode(links: children.map { DagPB.Link(cid: $0.cid, totalSize: $0.totalSize) }, data: data)
        let cid = dagPB(block)
        try emit(cid, block)
        return Node(cid: cid, totalSize: children.reduce(UInt64(block.count)) { $0 + $1.totalSize }, fileSize: fileSize)
    }

    private func dagPB(_ block: [UInt8]) -> CID { options.cidVersion == 0 ? CID.v0(block) : CID.dagPB(block) }
}
