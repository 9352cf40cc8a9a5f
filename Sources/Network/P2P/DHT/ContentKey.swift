import Ledger

/// The DHT key of content, as kad-dht's provider records use it: the multihash inside a CID. Accepts a
/// CIDv0 (`Qm…`, base58), a CIDv1 in base32 (`b…`), or 64 hex characters (a SHA-256, wrapped as a multihash).
public enum ContentKey {
    public static func parse(_ text: String) -> [UInt8]? {
        if text.count == 64, let digest = Hex.decode(text) { return [0x12, 0x20] + digest }
        if text.hasPrefix("Qm"), let bytes = Base58.decode(text), bytes.count == 34, bytes[0] == 0x12, bytes[1] == 0x20 { return bytes }
        if text.hasPrefix("b"), let bytes = Base32Text.decode(String(text.dropFirst())), bytes.first == 1 {
            // version 1, codec varint, then the multihash
            guard let (_, used) = try? Varint.decode(bytes[1...]) else { return nil }
            let multihash = Array(bytes[(1 + used)...])
            guard multihash.count >= 2, let (_, codeLength) = try? Varint.decode(multihash),
                  let (length, lengthLength) = try? Varint.decode(multihash[codeLength...]),
                  multihash.count == codeLength + lengthLength + Int(length) else { return nil }
            return multihash
        }
        return nil
    }
}
