/// The UnixFS `Data` message inside a dag-pb node (the UnixFS spec's unixfs.proto): what kind of node
/// it is, a file's bytes and sizes. Only the fields `ipfs add` writes are encoded, in field order.
public struct UnixFSData: Sendable, Equatable {
    public enum Kind: UInt64, Sendable {
        case raw = 0, directory = 1, file = 2, metadata = 3, symlink = 4, hamtShard = 5
    }

    public var kind: Kind
    public var data: [UInt8]?
    public var fileSize: UInt64?
    public var blockSizes: [UInt64] = []
    /// A HAMT shard's hash function (multicodec; 0x22 murmur3-x64-64) and fanout.
    public var hashType: UInt64?
    public var fanout: UInt64?

    public init(kind: Kind, data: [UInt8]? = nil, fileSize: UInt64? = nil, blockSizes: [UInt64] = [], hashType: UInt64? = nil, fanout: UInt64? = nil) {
        self.kind = kind
        self.data = data
        self.fileSize = fileSize
        self.blockSizes = blockSizes
        self.hashType = hashType
        self.fanout = fanout
    }

    public var encoded: [UInt8] {
        var out = ProtobufWriter()
        out.varint(1, kind.rawValue)
        if let data, !data.isEmpty { out.bytes(2, data) }
        if let fileSize { out.varint(3, fileSize) }
        for size in blockSizes { out.varint(4, size) }  // proto2 repeated, not packed: one field each
        if let hashType { out.varint(5, hashType) }
        if let fanout { out.varint(6, fanout) }
        return out.bytes
    }

    /// Decodes the UnixFS data of a dag-pb node, from bytes that may come from anyone.
    public init(decoding bytes: [UInt8]) throws(ContentError) {
        var kind: Kind?
        var data: [UInt8]?, fileSize: UInt64?, blockSizes: [UInt64] = [], hashType: UInt64?, fanout: UInt64?
        for (field, value) in try DagPB.fields(bytes[...]) {
            switch (field, value) {
            case (1, .varint(let raw)):
                guard let known = Kind(rawValue: raw) else { throw .malformed("UnixFS type \(raw) is unknown") }
                kind = known
            case (2, .bytes(let bytes)): data = Array(bytes)
            case (3, .varint(let size)): fileSize = size
            case (4, .varint(let size)): blockSizes.append(size)
            case (5, .varint(let value)): hashType = value
            case (6, .varint(let value)): fanout = value
            case (7...8, _): continue  // mode, mtime: read, not used yet
            default: throw .malformed("UnixFS data has an unexpected field \(field)")
            }
        }
        guard let kind else { throw .malformed("UnixFS data has no type") }
        self.init(kind: kind, data: data, fileSize: fileSize, blockSizes: blockSizes, hashType: hashType, fanout: fanout)
    }
}
