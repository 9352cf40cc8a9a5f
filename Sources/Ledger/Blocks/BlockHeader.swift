/// What bookkeepers vote on: a block's place in the chain, the bookkeeper sets that sign it and the next,
/// the previous block's commit certificate, and commitments to its transactions and to the state after
/// them. The block hash is SHA-256 of this encoding (specs/blocks.md).
public struct BlockHeader: CBORCodable, Hashable, Sendable {
    public var chain: String
    public var height: UInt64
    public var pulse: UInt64
    /// Milliseconds since the Unix epoch, chosen by the proposer and accepted by the bookkeepers only when
    /// it is timely by their own clocks (specs/consensus.md); the pulse must match it.
    public var timeMillis: UInt64
    public var previous: Digest
    /// `hash` of the commit certificate of the previous block (zero at heights 0 and 1).
    public var lastCommit: Digest
    /// `hash` of the bookkeeper set that must certify this block, and of the set after it.
    public var bookkeepers: Digest
    public var nextBookkeepers: Digest
    public var transactionRoot: Digest
    /// Merkle root (as `txRoot`) of the hashes of the evidence the block carries; zero for none.
    public var evidenceRoot: Digest = .zero
    public var stateRoot: Digest
    public var proposer: ID
    public var transactionCount: UInt64

    public init(
        chain: String, height: UInt64, pulse: UInt64, timeMillis: UInt64, previous: Digest, lastCommit: Digest,
        bookkeepers: Digest, nextBookkeepers: Digest, transactionRoot: Digest, stateRoot: Digest, proposer: ID, transactionCount: UInt64
    ) {
        self.chain = chain
        self.height = height
        self.pulse = pulse
        self.timeMillis = timeMillis
        self.previous = previous
        self.lastCommit = lastCommit
        self.bookkeepers = bookkeepers
        self.nextBookkeepers = nextBookkeepers
        self.transactionRoot = transactionRoot
        self.stateRoot = stateRoot
        self.proposer = proposer
        self.transactionCount = transactionCount
    }

    public var cbor: CBOR {
        .map([
            "chain": .text(chain), "height": .unsigned(height), "pulse": .unsigned(pulse), "time": .unsigned(timeMillis),
            "previous": .digest(previous), "lastCommit": .digest(lastCommit), "bookkeepers": .digest(bookkeepers),
            "nextBookkeepers": .digest(nextBookkeepers), "txRoot": .digest(transactionRoot), "evidence": .digest(evidenceRoot),
            "stateRoot": .digest(stateRoot),
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
        lastCommit = try fields.digest("lastCommit")
        bookkeepers = try fields.digest("bookkeepers")
        nextBookkeepers = try fields.digest("nextBookkeepers")
        transactionRoot = try fields.digest("txRoot")
        evidenceRoot = try fields.digest("evidence")
        stateRoot = try fields.digest("stateRoot")
        proposer = try fields.id("proposer")
        transactionCount = try fields.unsigned("txCount")
        try fields.finish()
    }

    public var hash: Digest { SHA256.hash(encoded) }
}

/// Binary Merkle root of the hashes of the signed transactions (signatures included, so that the header
/// fixes the whole block and no relay can swap a signature under the same block hash), as RFC 6962 defines it (leaf = SHA256(0x00 || id),
/// node = SHA256(0x01 || left || right), split at the largest power of two below the count).
/// The root of no transactions is the zero digest.
public enum TransactionRoot {
    public static func compute(_ ids: [Digest]) -> Digest {
        MerkleList.root(ids.map { MerkleList.leafHash($0.bytes) })
    }

    /// The root of a block's transactions: over SHA-256 of each signed encoding.
    public static func of(_ transactions: [SignedTransaction]) -> Digest {
        compute(transactions.map { SHA256.hash($0.encoded) })
    }
}
