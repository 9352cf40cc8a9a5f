/// A capability to read a private MiMei (specs/content.md §Rights): its author's signature over the MiMei
/// ID, the reader and an expiry. The reader is a libp2p peer ID (its bytes), checked by Bitswap and by
/// the head exchange against the asking peer; an empty reader makes a bearer capability, which the
/// gateway accepts from whoever presents it (as a link shared with a friend). A node that holds a private
/// MiMei serves its head and blocks only to a request carrying a capability that passes `check`.
///
/// Encoded as the DAG-CBOR map {mimei, reader, expires, signer, signature}; the signature is BIP-340 by
/// `signer` over TaggedHash("ledgerd/mimei-capability", DAG-CBOR{mimei, reader, expires}), and the
/// signer's ID must be the MiMei's author.
public struct MiMeiCapability: Equatable, Sendable {
    public let mimei: ID
    public let reader: [UInt8]
    /// Milliseconds since 1970 after which it no longer grants anything.
    public let expires: UInt64
    public let signer: PublicKey
    public let signature: Signature

    public static let tag = "ledgerd/mimei-capability"
    /// A peer ID is at most 42 bytes (an identity multihash of a secp256k1 or Ed25519 key) or 34 (sha2-256).
    public static let readerBytesMax = 64
    public static let encodedBytesMax = 512

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case badSignature
        case notAuthor
        case otherMiMei
        case expired
        case otherReader

        public var description: String {
            switch self {
            case .malformed(let why): "not a MiMei capability: \(why)"
            case .badSignature: "the capability's signature does not verify"
            case .notAuthor: "the capability is not signed by the MiMei's author"
            case .otherMiMei: "the capability is for another MiMei"
            case .expired: "the capability has expired"
            case .otherReader: "the capability names another reader"
            }
        }
    }

    public init(mimei: ID, reader: [UInt8], expires: UInt64, author: SecretKey) {
        self.mimei = mimei
        self.reader = reader
        self.expires = expires
        signer = author.publicKey
        signature = author.sign(SHA256.tagged(Self.tag, Self.signed(mimei: mimei, reader: reader, expires: expires)))
    }

    static func signed(mimei: ID, reader: [UInt8], expires: UInt64) -> [UInt8] {
        CBOREncoder.encode(.map(["mimei": .bytes(mimei.bytes), "reader": .bytes(reader), "expires": .unsigned(expires)]))
    }

    public var encoded: [UInt8] {
        CBOREncoder.encode(.map(["mimei": .bytes(mimei.bytes), "reader": .bytes(reader), "expires": .unsigned(expires),
                                 "signer": .bytes(signer.bytes), "signature": .bytes(signature.bytes)]))
    }

    /// Decodes and checks the signature (not who may use it: that is `check`).
    public init(encoded: [UInt8]) throws(Failure) {
        guard encoded.count <= Self.encodedBytesMax else { throw .malformed("\(encoded.count) bytes, over \(Self.encodedBytesMax)") }
        guard let cbor = try? CBORDecoder.decode(encoded), case .map(let fields) = cbor, fields.count == 5,
              case .bytes(let mimeiBytes)? = fields["mimei"], let mimei = ID(bytes: mimeiBytes),
              case .bytes(let reader)? = fields["reader"], reader.count <= Self.readerBytesMax, case .unsigned(let expires)? = fields["expires"],
              case .bytes(let signerBytes)? = fields["signer"], let signer = try? PublicKey(bytes: signerBytes),
              case .bytes(let signatureBytes)? = fields["signature"], let signature = try? Signature(bytes: signatureBytes)
        else { throw .malformed("not the map {mimei, reader, expires, signer, signature}") }
        guard CBOREncoder.encode(cbor) == encoded else { throw .malformed("not canonical DAG-CBOR") }
        guard signer.verify(signature, for: SHA256.tagged(Self.tag, Self.signed(mimei: mimei, reader: reader, expires: expires))) else { throw .badSignature }
        self.mimei = mimei
        self.reader = reader
        self.expires = expires
        self.signer = signer
        self.signature = signature
    }

    /// The text form (lowercase hex of `encoded`), as `ledgerctl mimei grant` prints it and a bearer carries it.
    public var text: String { Hex.encode(encoded) }

    public init(text: String) throws(Failure) {
        guard text.utf8.count <= 2 * Self.encodedBytesMax, let bytes = Hex.decode(text) else { throw .malformed("not hex") }
        try self.init(encoded: bytes)
    }

    /// Whether it grants reading `mimei` at `now` to the peer `reader` (nil: whoever presents it, as the
    /// gateway's bearer). A capability with an empty reader grants every presenter, a peer included.
    public func check(_ mimei: MiMei, reader: [UInt8]?, now: UInt64) throws(Failure) {
        guard self.mimei == mimei.id else { throw .otherMiMei }
        guard signer.id == mimei.author else { throw .notAuthor }
        guard now < expires else { throw .expired }
        if let reader, !self.reader.isEmpty, self.reader != reader { throw .otherReader }
    }
}
