/// Evidence that a bookkeeper signed two different votes at one height, round and type
/// (specs/consensus.md §Evidence). Valid alone: both votes verify under the same key.
public struct Equivocation: Hashable, Sendable {
    public var first: ConsensusVote
    public var second: ConsensusVote

    /// Orders the pair by signing digest, so the same two votes make the same evidence whoever saw them first.
    public init?(_ a: ConsensusVote, _ b: ConsensusVote) {
        guard a.voter == b.voter, a.chain.sameBytes(as: b.chain), a.kind == b.kind, a.height == b.height, a.round == b.round, a.block != b.block
        else { return nil }
        (first, second) = a.signingDigest < b.signingDigest ? (a, b) : (b, a)
    }

    public var voter: PublicKey { first.voter }

    /// Both votes verify: a stranger cannot frame a bookkeeper.
    public var verifies: Bool { first.verifies && second.verifies }

    public var cbor: CBOR { .array([first.cbor, second.cbor]) }

    public init(cbor: CBOR) throws(DecodeError) {
        guard case .array(let items) = cbor, items.count == 2 else { throw .schema("evidence: an array of two votes") }
        guard let evidence = Equivocation(try ConsensusVote(cbor: items[0]), try ConsensusVote(cbor: items[1])) else {
            throw .schema("evidence: two votes of one voter for different blocks at one height, round and type")
        }
        self = evidence
    }

    public var hash: Digest { SHA256.tagged("ledgerd/evidence", CBOREncoder.encode(cbor)) }
}
