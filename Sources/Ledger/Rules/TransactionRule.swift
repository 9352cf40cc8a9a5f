/// Where and when a transaction is applied: the block's chain, height and pulse, and the hash of the
/// block before it (the randomness that storage challenges draw from: known to every validator, fixed
/// before the block, unknown when the challenged data was promised).
public struct BlockContext: Sendable {
    public let chain: String
    public let height: UInt64
    public let pulse: UInt64
    public let previousHash: Digest

    public init(chain: String, height: UInt64, pulse: UInt64, previousHash: Digest = .zero) {
        self.chain = chain
        self.height = height
        self.pulse = pulse
        self.previousHash = previousHash
    }
}

/// The rule for one transaction type: how many signers it takes and what it does to the state.
/// Ledger, Credit and Consensus each contribute rules; the executables compose them into the one
/// `StateMachine` every node runs.
public struct TransactionRule: Sendable {
    public typealias Apply = @Sendable (Transaction, inout StateDraft, BlockContext) throws(Rejection) -> Void

    public let type: String
    public let signerCount: ClosedRange<Int>
    public let apply: Apply

    public init(type: String, signerCount: ClosedRange<Int>, apply: @escaping Apply) {
        self.type = type
        self.signerCount = signerCount
        self.apply = apply
    }
}

extension Transaction {
    /// Decodes the body with the rule's schema; a body that does not fit is `malformed`.
    public func decodeBody<T>(_ decode: (inout CBORFields) throws(DecodeError) -> T) throws(Rejection) -> T {
        do {
            var fields = try CBORFields(body, schema: type)
            let value = try decode(&fields)
            try fields.finish()
            return value
        } catch {
            throw Rejection.malformed(error)
        }
    }
}
