import Ledger

extension Varint {
    /// Decodes a varint at the start of `bytes`. Returns nil when more bytes are needed; throws, as a
    /// wire error, when the bytes can never be a valid varint.
    public static func decode<C: Collection>(_ bytes: C) throws(WireError) -> (value: UInt64, length: Int)? where C.Element == UInt8 {
        do { return try decodeChecked(bytes) } catch {
            switch error {
            case .tooLong: throw WireError.malformed("varint longer than 9 bytes")
            case .notMinimal: throw WireError.malformed("varint is not minimally encoded")
            }
        }
    }
}
