import Synchronization

/// Signatures this node has already verified, so that each is verified once per node: a transaction's
/// when its mempool admitted it (keyed by the hash of its signed encoding, signatures included), a
/// precommit's when consensus received it (keyed by key, signed digest and signature together). A block
/// whose every signature is known skips them; any other signature is verified as usual.
public struct KnownSignatures: Sendable {
    public var transactions: Set<Digest> = []
    public var precommits: Set<Digest> = []

    public init(transactions: Set<Digest> = [], precommits: Set<Digest> = []) {
        self.transactions = transactions
        self.precommits = precommits
    }

    public static func key(_ signed: SignedTransaction) -> Digest { SHA256.hash(signed.encoded) }

    public static func key(voter: PublicKey, digest: Digest, signature: Signature) -> Digest {
        SHA256.hash(voter.bytes + digest.bytes + signature.bytes)
    }

    public func knows(_ signed: SignedTransaction) -> Bool { transactions.contains(Self.key(signed)) }
}

/// How many BIP-340 verifications this process made (the benchmark's verifications per transaction).
public enum SignatureCount {
    static let counter = Atomic<Int>(0)
    public static var verifications: Int { counter.load(ordering: .relaxed) }
}
