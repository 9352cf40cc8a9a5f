/// Writes the one canonical encoding of a CBOR value: minimal-length heads, definite lengths, map keys
/// in canonical order.
public enum CBOREncoder {
    public static func encode(_ value: CBOR) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, into: &out)
        return out
    }

    static func writeHead(major: UInt8, _ argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xff: out.append(type | 24); out.append(UInt8(argument))
        case 0x100...0xffff:
            out.append(type | 25)
            out.append(UInt8(argument >> 8)); out.append(UInt8(argument & 0xff))
        case 0x1_0000...0xffff_ffff:
            out.append(type | 26)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8((argument >> UInt64(shift)) & 0xff)) }
        default:
            out.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((argument >> UInt64(shift)) & 0xff)) }
        }
    }

    static func write(_ value: CBOR, into out: inout [UInt8]) {
        switch value {
        case .unsigned(let n): writeHead(major: 0, n, into: &out)
        case .negative(let n): writeHead(major: 1, n, into: &out)
        case .bytes(let bytes):
            writeHead(major: 2, UInt64(bytes.count), into: &out)
            out.append(contentsOf: bytes)
        case .text(let text):
            let utf8 = Array(text.utf8)
            writeHead(major: 3, UInt64(utf8.count), into: &out)
            out.append(contentsOf: utf8)
        case .array(let items):
            writeHead(major: 4, UInt64(items.count), into: &out)
            for item in items { write(item, into: &out) }
        case .map(let entries):
            writeHead(major: 5, UInt64(entries.count), into: &out)
            let sorted = entries.map { (Array($0.key.utf8), $0.value) }.sorted { canonicalKeyOrder($0.0, $1.0) }
            for (key, item) in sorted {
                writeHead(major: 3, UInt64(key.count), into: &out)
                out.append(contentsOf: key)
                write(item, into: &out)
            }
        case .bool(let flag): out.append(flag ? 0xf5 : 0xf4)
        case .null: out.append(0xf6)
        case .link(let cid):
            writeHead(major: 6, 42, into: &out)
            // DAG-CBOR links carry the binary CID behind a 0x00 multibase "identity" prefix.
            writeHead(major: 2, UInt64(cid.count + 1), into: &out)
            out.append(0)
            out.append(contentsOf: cid)
        }
    }
}
