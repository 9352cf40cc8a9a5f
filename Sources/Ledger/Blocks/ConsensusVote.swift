/// A bookkeeper's signed vote in Tendermint's consensus (specs/consensus.md): a prevote or a precommit
/// for one block, or for none (`block` nil), at a height and round. A block's commit certificate is
/// made of precommits; evidence of equivocation is two votes.
public struct ConsensusVote: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case prevote, precommit
    }

    public var kind: Kind
    public var chain: String
    public var height: UInt64
    public var round: UInt32
    /// The block hash voted for; nil is a vote for no block.
    public var block: Digest?
    /// The voter's clock when it voted (milliseconds since the Unix epoch).
    public var timeMillis: UInt64
    public var voter: PublicKey
    public var signature: Signature

    public init(kind: Kind, chain: String, height: UInt64, round: UInt32, block: Digest?, timeMillis: UInt64, voter: PublicKey, signature: Signature) {
        self.kind = kind
        self.chain = chain
        self.height = height
        self.round = round
        self.block = block
        self.timeMillis = timeMillis
        self.voter = voter
        self.signature = signature
    }

    /// Signs a new vote.
    public init(kind: Kind, chain: String, height: UInt64, round: UInt32, block: Digest?, timeMillis: UInt64, key: SecretKey) {
        let digest = ConsensusVote.signingDigest(kind: kind, chain: chain, height: height, round: round, block: block, timeMillis: timeMillis)
        self.init(kind: kind, chain: chain, height: height, round: round, block: block, timeMillis: timeMillis,
                  voter: key.publicKey, signature: key.sign(digest))
    }

    /// What a voter signs: TaggedHash("ledgerd/vote", encode({chain, height, round, type, block, time})),
    /// with `block` null for a nil vote. Chain and type are inside, so no vote counts on another chain or
    /// as the other kind.
    public static func signingDigest(kind: Kind, chain: String, height: UInt64, round: UInt32, block: Digest?, timeMillis: UInt64) -> Digest {
        SHA256.tagged("ledgerd/vote", CBOREncoder.encode(.map([
            "chain": .text(chain), "height": .unsigned(height), "round": .unsigned(UInt64(round)), "type": .text(kind.rawValue),
            "block": block.map { .bytes($0.bytes) } ?? .null, "time": .unsigned(timeMillis),
        ])))
    }

    public var signingDigest: Digest {
        ConsensusVote.signingDigest(kind: kind, chain: chain, height: height, round: round, block: block, timeMillis: timeMillis)
    }

    public var verifies: Bool { voter.verify(signature, for: signingDigest) }

    /// The vote as it travels on its own (gossip, evidence): every field.
    public var cbor: CBOR {
        .map([
            "type": .text(kind.rawValue), "chain": .text(chain), "height": .unsigned(height), "round": .unsigned(UInt64(round)),
            "block": block.map { .bytes($0.bytes) } ?? .null, "time": .unsigned(timeMillis),
            "key": .bytes(voter.bytes), "sig": .bytes(signature.bytes),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "vote")
        guard let kind = Kind(rawValue: try fields.text("type", lengthMax: 16)) else { throw .schema("vote: type must be prevote or precommit") }
        self.kind = kind
        chain = try fields.text("chain", lengthMax: 64)
        height = try fields.unsigned("height")
        guard let round = UInt32(exactly: try fields.unsigned("round")) else { throw .schema("vote: round must be below 2^32") }
        self.round = round
        switch try fields.value("block") {
        case .null: block = nil
        case .bytes(let raw) where raw.count == 32: block = Digest(bytes: raw)
        default: throw .schema("vote: block must be 32 bytes or null")
        }
        timeMillis = try fields.unsigned("time")
        voter = try fields.publicKey("key")
        guard let signature = try? Signature(bytes: try fields.bytes("sig", count: 64)) else { throw .schema("vote: signature must be 64 bytes") }
        self.signature = signature
        try fields.finish()
    }
}
