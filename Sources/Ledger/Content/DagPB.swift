/// dag-pb, the codec of UnixFS nodes (specs/content.md §dag-pb): a PBNode of links, then optional data,
/// in protobuf. Encoded as go-ipfs does — links first, each with its hash, its name (present even when
/// empty) and its cumulative size — so that the bytes, and therefore the CIDs, equal Kubo's.
public enum DagPB {
    public struct Link: Sendable, Equatable {
        public var cid: CID
        public var name: String
        /// The size of the whole DAG under the link: the child's block plus everything below it.
        public var totalSize: UInt64

        public init(cid: CID, name: String = "", totalSize: UInt64) {
            self.cid = cid
            self.name = name
            self.totalSize = totalSize
        }
    }

    public static func encode(links: [Link], data: [UInt8]?) -> [UInt8] {
        var out = ProtobufWriter()
        for link in links {
            var encoded = ProtobufWriter()
            encoded.bytes(1, link.cid.bytes)
            encoded.bytes(2, Array(link.name.utf8))
            encoded.varint(3, link.totalSize)
            out.bytes(2, encoded.bytes)
        }
        if let data { out.bytes(1, data) }
        return out.bytes
    }
}
