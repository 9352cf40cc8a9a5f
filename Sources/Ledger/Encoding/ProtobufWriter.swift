/// The protobuf wire format, only as far as libp2p's messages need it: varint and length-delimited
/// fields. libp2p fixes its messages' field numbers (specs/p2p.md); generated code would be larger than
/// these hundred lines.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ field: Int, _ value: UInt64) {
        bytes += Varint.encode(UInt64(field << 3))
        bytes += Varint.encode(value)
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        bytes += Varint.encode(UInt64(field << 3 | 2))
        bytes += Varint.encode(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }
}
