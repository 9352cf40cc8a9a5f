import Ledger

/// Parsed fields of one protobuf message, by number. Unknown fields are kept (and ignored by callers),
/// as protobuf requires; fixed-width fields are skipped.
public struct ProtobufMessage {
    public enum Value {
        case varint(UInt64)
        case bytes([UInt8])
    }

    public private(set) var fields: [(number: Int, value: Value)] = []

    public init(_ data: [UInt8]) throws(WireError) {
        var index = 0
        while index < data.count {
            guard let (key, keyLength) = try Varint.decode(data[index...]) else { throw .malformed("protobuf field key truncated") }
            index += keyLength
            let number = Int(key >> 3)
            guard number > 0 else { throw .malformed("protobuf field number 0") }
            switch key & 7 {
            case 0:
                guard let (value, length) = try Varint.decode(data[index...]) else { throw .malformed("protobuf varint truncated") }
                index += length
                fields.append((number, .varint(value)))
            case 1, 5:
                let width = key & 7 == 1 ? 8 : 4
                guard data.count - index >= width else { throw .malformed("protobuf fixed field truncated") }
                index += width
            case 2:
                guard let (length, lengthLength) = try Varint.decode(data[index...]) else { throw .malformed("protobuf length truncated") }
                index += lengthLength
                guard length <= UInt64(data.count - index) else { throw .malformed("protobuf field longer than its message") }
                fields.append((number, .bytes(Array(data[index..<index + Int(length)]))))
                index += Int(length)
            default:
                throw .malformed("protobuf wire type \(key & 7) is not supported")
            }
        }
    }

    public func bytes(_ number: Int) -> [UInt8]? {
        for field in fields.reversed() where field.number == number { if case .bytes(let value) = field.value { return value } }
        return nil
    }

    public func allBytes(_ number: Int) -> [[UInt8]] {
        fields.compactMap { field in
            guard field.number == number, case .bytes(let value) = field.value else { return nil }
            return value
        }
    }

    public func varint(_ number: Int) -> UInt64? {
        for field in fields.reversed() where field.number == number { if case .varint(let value) = field.value { return value } }
        return nil
    }

    public func string(_ number: Int) -> String? { bytes(number).map { String(decoding: $0, as: UTF8.self) } }
}
