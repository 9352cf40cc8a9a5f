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

    public init(kind: Kind, data: [UInt8]? = nil, fileSize: UInt64? = nil, blockSizes: [UInt64] = []) {
        self.kind = kind
        self.data = data
        self.fileSize = fileSize
        self.blockSizes = blockSizes
    }

    public var encoded: [UInt8] {
        var out = ProtobufWriter()
        out.varint(1, kind.rawValue)
        if let data, !data.isEmpty { out.bytes(2, data) }
        if let fileSize { out.varint(3, fileSize) }
        for size in blockSizes { out.varint(4, size) }  // proto2 repeated, not packed: one field each
        return out.bytes
    }
}
