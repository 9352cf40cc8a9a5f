/// A signed value for the DHT's PUT_VALUE/GET_VALUE (specs/p2p.md §Records). Keys name what they hold
/// and whose it is:
///   /ledgerd/mimei/<MiMei ID>          a MiMei head (MiMeiHead), signed by its author; seq = version
///   /ledgerd/org/<organization ID>     an organization's public information, signed by its key
///   /ledgerd/addr/<ledger ID>          a node's addresses, signed by the node
/// The value is the CBOR map {key, value, seq, signer, signature}; the signature is BIP-340 by `signer`
/// over TaggedHash("ledgerd/dht-record", CBOR{key, value, seq}), and the signer's ID must be the ID in the
/// key (for a MiMei, its author's). Of two valid records the higher seq wins.
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
        guard Self.isValidKey(key) else { throw .unknownNamespace }
        // A MiMei's key names only its ID: the owner is the author in the head, whose descriptor hashes to
        // that ID (so nobody else can sign for it), and the sequence number is the head's version.
        let owner: ID
        if key.hasPrefix(Self.mimeiPrefix) {
            guard let head = try? MiMeiHead(value: value, key: key), head.version == seq else { throw .notAHead }
            owner = head.mimei.author
        } else {
            guard let named = Self.owner(of: key) else { throw .unknownNamespace }
            owner = named
        }
        guard signer.id == owner else { throw .notOwner }
        guard signer.verify(signature, for: SHA256.tagged(Self.tag, Self.signed(key: key, value: value, seq: seq))) else { throw .badSignature }
        self.key = key
        self.value = value
        self.seq = seq
        self.signer = signer
        self.signature = signature
    }

    /// Whether the record has passed its end of life at `now` (milliseconds): a MiMei head's `eol`;
    /// other records do not expire.
    public func expired(atMillis now: UInt64) -> Bool {
        guard key.hasPrefix("/ledgerd/mimei/"), let head = try? MiMeiHead(value: value, key: key) else { return false }
        return head.endOfLife <= now
    }

    static let mimeiPrefix = "/ledgerd/mimei/"

    /// Whether `key` is in one of our namespaces: `/ledgerd/mimei/<MiMei ID>`, `/ledgerd/org/<ID>`,
    /// `/ledgerd/addr/<ID>`.
    public static func isValidKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1] == "ledgerd", namespaces.contains(String(parts[2])) else { return false }
        return (try? ID(text: String(parts[3]))) != nil
    }

    /// The ledger ID an org or addr key belongs to (nil for a MiMei key, whose owner is in its value, and
    /// for keys outside our namespaces).
    public static func owner(of key: String) -> ID? {
        guard isValidKey(key), !key.hasPrefix(mimeiPrefix) else { return nil }
        return try? ID(text: String(key.split(separator: "/")[2]))
    }
}

public enum DHTRecordError: Error, CustomStringConvertible {
    case malformed, wrongKey, tooLarge, unknownNamespace, notOwner, badSignature, notAHead
    public var description: String {
        switch self {
        case .malformed: "record is not a CBOR {key, value, seq, signer, signature} map"
        case .wrongKey: "record is for another key"
        case .tooLarge: "record value is over \(DHTRecord.maxValue) bytes"
        case .unknownNamespace: "key is not /ledgerd/mimei/<MiMei ID>, /ledgerd/org/<id> or /ledgerd/addr/<id>"
        case .notOwner: "record is not signed by the key's owner"
        case .badSignature: "record signature does not verify"
        case .notAHead: "a /ledgerd/mimei/ record must hold that MiMei's head, with its version as seq"
        }
    }
}
