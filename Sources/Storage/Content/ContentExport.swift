import Ledger

/// `ipfs cat`: a UnixFS file's bytes, in order, read from the store block by block (one block in
/// memory at a time beside the path from the root), each checked against its CID by the store.
public struct ContentExport {
    public let store: ContentStore
    /// Links followed, at most, for one file: a DAG that links to itself or fans out without end stops here.
    public static let depthMax = 64

    public init(store: ContentStore) { self.store = store }

    public enum Failure: Error, CustomStringConvertible {
        case notFound(CID)
        case notAFile(CID, String)
        case malformed(CID, String)
        case store(ContentStore.Failure)

        public var description: String {
            switch self {
            case .notFound(let cid): "block \(cid) is not in this node's content store"
            case .notAFile(let cid, let kind): "\(cid) is a \(kind), not a file"
            case .malformed(let cid, let why): "block \(cid) is not UnixFS: \(why)"
            case .store(let failure): "\(failure)"
            }
        }
    }

    /// Calls `body` with the file's bytes, piece by piece; the number of bytes.
    @discardableResult
    public func file(_ root: CID, _ body: ([UInt8]) throws -> Void) throws -> UInt64 {
        try file(root, depth: 0, body)
    }

    private func file(_ cid: CID, depth: Int, _ body: ([UInt8]) throws -> Void) throws -> UInt64 {
        guard depth <= Self.depthMax else { throw Failure.malformed(cid, "deeper than \(Self.depthMax) levels") }
        let block: [UInt8]
        do {
            guard let found = try store.get(cid) else { throw Failure.notFound(cid) }
            block = found
        } catch let failure as ContentStore.Failure { throw Failure.store(failure) }
        if cid.codec == CID.rawCodec {
            try body(block)
            return UInt64(block.count)
        }
        guard cid.codec == CID.dagPBCodec else { throw Failure.malformed(cid, "codec \(cid.codec) is not dag-pb or raw") }
        let node: (links: [DagPB.Link], data: [UInt8]?)
        let unixfs: UnixFSData
        do {
            node = try DagPB.decode(block)
            unixfs = try UnixFSData(decoding: node.data ?? [])
        } catch { throw Failure.malformed(cid, "\(error)") }
        guard unixfs.kind == .file || unixfs.kind == .raw else { throw Failure.notAFile(cid, "\(unixfs.kind)") }
        var total: UInt64 = 0
        if let data = unixfs.data, !data.isEmpty {
            try body(data)
            total += UInt64(data.count)
        }
        for link in node.links { total += try file(link.cid, depth: depth + 1, body) }
        return total
    }
}
