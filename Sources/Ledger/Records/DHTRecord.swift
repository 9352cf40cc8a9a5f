/// A signed value for the DHT's PUT_VALUE/GET_VALUE (specs/p2p.md §Records). Keys name what they hold
/// and whose it is:
///   /ledgerd/mimei/<ledger ID>/<name>  a MiMei head, signed by its owner
///   /ledgerd/org/<organization ID>     an organization's public information, signed by its key
///   /ledgerd/addr/<ledger ID>          a node's addresses, signed by the node
/// The value is the CBOR map {key, value, seq, signer, signature}; the signature is BIP-340 by `signer`
/// over TaggedHash("ledgerd/dht-record", CBOR{key, value, seq}), and the signer's ID must be the ID in the
/// key. Of two valid records the higher seq wins.
public struct DHTRecord: Equatable, Sendable {
    public static let tag = "ledgerd/dht-record"
    public static let namespaces = ["mimei", "org", "addr"]
    public static let maxValue = 16 * 1024

    public let key: String
    public let value: [UInt8]
    public let seq: UInt64
    public let signer: PublicKey
    public let signature: Signature

    public init(key: String, value: [UInt8], seq: UInt64, signer: SecretKey) {
        self.key = key
        self.value = value
        self.seq = seq
        self.signer = signer.publicKey
        signature = signer.sign(SHA256.tagged(Self.tag, Self.signed(key: key, value: value, seq: seq)))
    }

    static func signed(key: String, value: [UInt8], seq: UInt64) -> [UInt8] {
        CBOREncoder.encode(.map(["key": .text(key), "value": .bytes(value), "seq": .unsigned(seq)]))
    }

    public var encoded: [UInt8] {
        CBOREncoder.encode(.map(["key": .text(key), "value": .bytes(value), "seq": .unsigned(seq), "signer": .bytes(signer.bytes), "signature": .bytes(signature.bytes)]))
    }

    /// Decodes and validates: the record must be for `key`, well signed, by the key's owner.
    public init(encoded: [UInt8], expectedKey: String) throws(DHTRecordError) {
        guard let cbor = try? CBORDecoder.decode(encoded), case .map(let fields) = cbor, fields.count == 5,
              case .text(let key)? = fields["key"], case .bytes(let value)? = fields["value"], case .unsigned(let seq)? = fields["seq"],
              case .bytes(let signerBytes)? = fields["signer"], case .bytes(let signatureBytes)? = fields["signature"],
              let signer = try? PublicKey(bytes: signerBytes), let signature = try? Signature(bytes: signatureBytes)
        else { throw .malformed }
        guard key == expectedKey else { throw .wrongKey }
        guard value.count <= Self.maxValue else { throw .tooLarge }
        guard let owner = Self.owner(of: key) else { throw .unknownNamespace }
        guard signer.id == owner else { throw .notOwner }
        guard signer.verify(signature, for: SHA256.tagged(Self.tag, Self.signed(key: key, value: value, seq: seq))) else { throw .badSignature }
        self.key = key
        self.value = value
        self.seq = seq
        self.signer = signer
        self.signature = signature
    }

    /// The ledger ID a key belongs to, or nil for a key outside our namespaces.
    public static func owner(of key: String) -> ID? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == "ledgerd", namespaces.contains(String(parts[2])) else { return nil }
        if parts[2] == "mimei" ? parts.count != 5 || parts[4].isEmpty : parts.count != 4 { return nil }
        return try? ID(text: String(parts[3]))
    }
}

public enum DHTRecordError: Error, CustomStringConvertible {
    case malformed, wrongKey, tooLarge, unknownNamespace, notOwner, badSignature
    public var description: String {
        switch self {
        case .malformed: "record is not a CBOR {key, value, seq, signer, signature} map"
        case .wrongKey: "record is for another key"
        case .tooLarge: "record value is over \(DHTRecord.maxValue) bytes"
        case .unknownNamespace: "key is not /ledgerd/mimei/<id>/<name>, /ledgerd/org/<id> or /ledgerd/addr/<id>"
        case .notOwner: "record is not signed by the key's owner"
        case .badSignature: "record signature does not verify"
        }
    }
}
