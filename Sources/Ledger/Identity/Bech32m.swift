/// Bech32m (BIP-350), the text form of ledger IDs. Its checksum detects any error in up to four
/// characters, so a mistyped ID is rejected instead of naming somebody else's account.
public enum Bech32m {
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    static let constant: UInt32 = 0x2bc8_30a3
    static let lengthMax = 90

    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case mixedCase, tooLong, noSeparator, invalidCharacter(Character), badChecksum, badPadding, badPrefixCharacter

        public var description: String {
            switch self {
            case .mixedCase: "mixes upper and lower case"
            case .tooLong: "longer than 90 characters"
            case .noSeparator: "has no '1' separator after the prefix"
            case .invalidCharacter(let c): "contains '\(c)', which is not in the bech32 alphabet"
            case .badChecksum: "checksum does not match (a character is mistyped or missing)"
            case .badPadding: "has non-zero padding bits"
            case .badPrefixCharacter: "has a prefix character outside printable ASCII"
            }
        }
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { checksum ^= generator[bit] }
        }
        return checksum
    }

    private static func expand(_ prefix: [UInt8]) -> [UInt8] {
        prefix.map { $0 >> 5 } + [0] + prefix.map { $0 & 31 }
    }

    /// Encodes 5-bit groups with a human-readable prefix.
    public static func encode(prefix: String, groups: [UInt8]) -> String {
        let prefixBytes = Array(prefix.utf8)
        let check = polymod(expand(prefixBytes) + groups + [0, 0, 0, 0, 0, 0]) ^ constant
        let checksum = (0..<6).map { UInt8((check >> UInt32(5 * (5 - $0))) & 31) }
        let body = (groups + checksum).map { charset[Int($0)] }
        return prefix + "1" + String(decoding: body, as: UTF8.self)
    }

    /// Decodes to the prefix and the 5-bit groups, checksum removed.
    public static func decode(_ text: String) throws(DecodeError) -> (prefix: String, groups: [UInt8]) {
        guard text.utf8.count <= lengthMax else { throw .tooLong }
        guard text.utf8.allSatisfy({ (33...126).contains($0) }) else { throw .badPrefixCharacter }
        let hasLower = text.contains { $0.isLowercase }, hasUpper = text.contains { $0.isUppercase }
        guard !(hasLower && hasUpper) else { throw .mixedCase }
        let lowered = text.lowercased()
        guard let separator = lowered.lastIndex(of: "1"), separator != lowered.startIndex,
            lowered.distance(from: separator, to: lowered.endIndex) >= 7
        else { throw .noSeparator }
        let prefix = String(lowered[..<separator])
        var groups: [UInt8] = []
        for character in lowered[lowered.index(after: separator)...] {
            guard let ascii = character.asciiValue, let index = charset.firstIndex(of: ascii) else {
                throw .invalidCharacter(character)
            }
            groups.append(UInt8(index))
        }
        guard polymod(expand(Array(prefix.utf8)) + groups) == constant else { throw .badChecksum }
        return (prefix, Array(groups.dropLast(6)))
    }

    /// Regroups bits, e.g. 8-bit bytes into 5-bit groups (with padding) and back (without).
    public static func convertBits(_ data: [UInt8], from: Int, to: Int, pad: Bool) throws(DecodeError) -> [UInt8] {
        var accumulator = 0, bits = 0
        var out: [UInt8] = []
        let maxValue = (1 << to) - 1
        for value in data {
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> bits) & maxValue))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << (to - bits)) & maxValue)) }
        } else if bits >= from || (accumulator << (to - bits)) & maxValue != 0 {
            throw .badPadding
        }
        return out
    }
}
