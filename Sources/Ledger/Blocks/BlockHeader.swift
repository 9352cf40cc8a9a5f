/// What bookkeepers sign: a block's place in the chain and commitments to its transactions and to the
/// state after them. The block hash is SHA-256 of this encoding (specs/blocks.md).
public struct BlockHeader: CBORCodable, Hashable, Sendable {
    /// How far ahead of a node's clock a block's time may be when it arrives (specs/blocks.md).
    public static let timeDriftMillisMax: UInt64 = 10_000

    public var chain: String
    public var height: UInt64
    public var pulse: UInt64
    /// Milliseconds since the Unix epoch, chosen by the proposer; the pulse must match it.
    public var timeMillis: UInt64
    public var previous: Digest
    public var transactionRoot: Digest
    public var stateRoot: Digest
    public var proposer: ID
    public var transactionCount: UInt64

    public init(
        chain: String, height: UInt64, pulse: UInt64, timeMillis: UInt64, previous: Digest,
        transactionRoot: Digest, stateRoot: Digest, proposer: ID, transactionCount: UInt64
    ) {
        self.chain = chain
        self.height = height
        self.pulse = pulse
        self.timeMillis = timeMillis
        self.previous = previous
        self.transactionRoot = transactionRoot
        self.stateRoot = stateRoot
        self.proposer = proposer
        self.transactionCount = transactionCount
    }

    public var cbor: CBOR {
        .map([
            "chain": .text(chain), "height": .unsigned(height), "pulse": .unsigned(pulse), "time": .unsigned(timeMillis),
            "previous": .digest(previous), "txRoot": .digest(transactionRoot), "stateRoot": .digest(stateRoot),
            "proposer": .id(proposer), "txCount": .unsigned(transactionCount),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "block header")
        chain = try fields.text("chain", lengthMax: 64)
        height = try fields.unsigned("height")
        pulse = try fields.unsigned("pulse")
        timeMillis = try fields.unsigned("time")
        previous = try fields.digest("previous")
        transactionRoot = try fields.digest("txRoot")
        stateRoot = try fields.digest("stateRoot")
        proposer = try fields.id("proposer")
        transactionCount = try fields.unsigned("txCount")
        try fields.finish()
    }

    public var hash: Digest { SHA256.hash(encoded) }

    /// What a bookkeeper signs: domain-separated from transaction signatures.
    public var sealingDigest: Digest { SHA256.tagged("ledgerd/block", encoded) }
}

/// One bookkeeper's signature on a block header.
public struct Seal: Hashable, Sendable {
    public var bookkeeper: PublicKey
    public var signature: Signature

    public init(bookkeeper: PublicKey, signature: Signature) {
        self.bookkeeper = bookkeeper
        self.signature = signature
    }

    public init(header: BlockHeader, key: SecretKey) {
        self.init(bookkeeper: key.publicKey, signature: key.sign(header.sealingDigest))
    }
}

/// Binary Merkle root of transaction IDs, as RFC 6962 defines it (leaf = SHA256(0x00 || id),
/// node = SHA256(0x01 || left || right), split at the largest power of two below the count).
/// The root of no transactions is the zero digest.
public enum TransactionRoot {
    public static func compute(_ ids: [Digest]) -> Digest {
        MerkleList.root(ids.map { MerkleList.leafHash($0.bytes) })
    }
}
