import Ledger

/// ⟨PROPOSAL, h, round, v, vr⟩ as it travels: the proposed block (without its own certificate), the
/// round whose prevotes justify re-proposing it (nil for a fresh proposal, the paper's −1), and the
/// proposer's signature over TaggedHash("ledgerd/proposal", encode({chain, height, round, validRound,
/// block: hash})) (specs/consensus.md).
public struct SignedProposal: Hashable, Sendable {
    public var round: UInt32
    public var validRound: UInt32?
    public var block: Block
    public var proposer: PublicKey
    public var signature: Signature

    public init(round: UInt32, validRound: UInt32?, block: Block, key: SecretKey) {
        self.round = round
        self.validRound = validRound
        self.block = block
        self.proposer = key.publicKey
        self.signature = key.sign(SignedProposal.signingDigest(chain: block.header.chain, height: block.height, round: round,
                                                              validRound: validRound, block: block.hash))
    }

    public init(round: UInt32, validRound: UInt32?, block: Block, proposer: PublicKey, signature: Signature) {
        self.round = round
        self.validRound = validRound
        self.block = block
        self.proposer = proposer
        self.signature = signature
    }

    public var height: UInt64 { block.height }

    public static func signingDigest(chain: String, height: UInt64, round: UInt32, validRound: UInt32?, block: Digest) -> Digest {
        SHA256.tagged("ledgerd/proposal", CBOREncoder.encode(.map([
            "chain": .text(chain), "height": .unsigned(height), "round": .unsigned(UInt64(round)),
            "validRound": validRound.map { .unsigned(UInt64($0)) } ?? .null, "block": .digest(block),
        ])))
    }

    public var verifies: Bool {
        proposer.verify(signature, for: SignedProposal.signingDigest(chain: block.header.chain, height: height, round: round,
                                                                     validRound: validRound, block: block.hash))
    }

    public var cbor: CBOR {
        .map([
            "round": .unsigned(UInt64(round)), "validRound": validRound.map { .unsigned(UInt64($0)) } ?? .null,
            "block": block.cbor, "key": .bytes(proposer.bytes), "sig": .bytes(signature.bytes),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "proposal")
        guard let round = UInt32(exactly: try fields.unsigned("round")) else { throw .schema("proposal: round must be below 2^32") }
        self.round = round
        switch try fields.value("validRound") {
        case .null: validRound = nil
        case .unsigned(let value) where value < UInt64(round): validRound = UInt32(value)
        default: throw .schema("proposal: validRound must be null or a round below the proposal's")
        }
        block = try Block(cbor: try fields.value("block"))
        proposer = try fields.publicKey("key")
        guard let signature = try? Signature(bytes: try fields.bytes("sig", count: 64)) else { throw .schema("proposal: signature must be 64 bytes") }
        self.signature = signature
        try fields.finish()
    }
}
