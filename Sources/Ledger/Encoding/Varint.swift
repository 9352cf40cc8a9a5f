/// Unsigned LEB128 varints, as multiformats and protobuf use them. Multiformats caps them at 9 bytes
/// (63 bits); a longer or non-minimal varint is refused, so a hostile peer cannot smuggle huge lengths.
public enum Varint {
    public static func encode(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    /// Why bytes can never start a valid varint.
    public enum Invalid: Error, Equatable {
        case tooLong, notMinimal
    }

    /// Decodes a varint at the start of `bytes`. Returns nil when more bytes are needed; throws when the
    /// bytes can never be a valid varint.
    public static func decodeChecked<C: Collection>(_ bytes: C) throws(Invalid) -> (value: UInt64, length: Int)? where C.Element == UInt8 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var length = 0
        for byte in bytes {
            length += 1
            guard length <= 9 else { throw .tooLong }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && length > 1 { throw .notMinimal }
                return (value, length)
            }
            shift += 7
        }
        return nil
    }

    /// The varint at the start of `bytes`, or nil when it is truncated or invalid.
    public static func decodeValue<C: Collection>(_ bytes: C) -> (value: UInt64, length: Int)? where C.Element == UInt8 {
        (try? decodeChecked(bytes)) ?? nil
    }
}
