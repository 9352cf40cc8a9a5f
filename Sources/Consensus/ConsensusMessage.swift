import Ledger

/// What bookkeepers send each other on `/ledgerd/consensus/1.0.0` (specs/consensus.md §Messages):
/// one CBOR map per message, `{"proposal": …}`, `{"vote": …}` or `{"evidence": [vote, vote]}`.
public enum ConsensusMessage: Hashable, Sendable {
    case proposal(SignedProposal)
    case vote(ConsensusVote)
    case evidence(Equivocation)

    /// The largest message: a proposal carries a whole block.
    public static let encodedBytesMax = Block.encodedBytesMax + 4096

    public var cbor: CBOR {
        switch self {
        case .proposal(let proposal): .map(["proposal": proposal.cbor])
        case .vote(let vote): .map(["vote": vote.cbor])
        case .evidence(let evidence): .map(["evidence": evidence.cbor])
        }
    }

    public var encoded: [UInt8] { CBOREncoder.encode(cbor) }

    public init(cbor: CBOR) throws(DecodeError) {
        guard case .map(let map) = cbor, map.count == 1, let (key, value) = map.first else {
            throw .schema("consensus message: a map with one key, proposal, vote or evidence")
        }
        switch key {
        case "proposal": self = .proposal(try SignedProposal(cbor: value))
        case "vote": self = .vote(try ConsensusVote(cbor: value))
        case "evidence": self = .evidence(try Equivocation(cbor: value))
        default: throw .schema("consensus message: unknown kind '\(key.prefix(32))'")
        }
    }

    public static func decodeUntrusted(_ bytes: [UInt8]) throws(DecodeError) -> ConsensusMessage {
        guard bytes.count <= encodedBytesMax else { throw .tooLarge }
        return try ConsensusMessage(cbor: try CBORDecoder.decode(bytes))
    }

    public var height: UInt64 {
        switch self {
        case .proposal(let proposal): proposal.height
        case .vote(let vote): vote.height
        case .evidence(let evidence): evidence.first.height
        }
    }
}
