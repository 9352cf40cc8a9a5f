/// A block: header, transactions, the certificate that made it final, and the previous block's
/// certificate (which the header commits to, so a chain of blocks proves its own history).
public struct Block: CBORCodable, Hashable, Sendable {
    public static let transactionCountMax = 10_000
    public static let encodedBytesMax = 32 * 1024 * 1024

    public var header: BlockHeader
    public var transactions: [SignedTransaction]
    /// Precommits for this block; nil while it is only proposed, and for block 0.
    public var commit: CommitCertificate?
    /// The certificate of block `height − 1` whose hash is `header.lastCommit`; nil at heights 0 and 1.
    public var lastCommit: CommitCertificate?
    /// Proofs of equivocation, whose bookkeepers this block excludes (Slashing); the header's `evidence` root commits to them.
    public var evidence: [Equivocation]

    public init(header: BlockHeader, transactions: [SignedTransaction], commit: CommitCertificate?, lastCommit: CommitCertificate?,
                evidence: [Equivocation] = []) {
        self.header = header
        self.transactions = transactions
        self.commit = commit
        self.lastCommit = lastCommit
        self.evidence = evidence
    }

    public static func evidenceRoot(_ evidence: [Equivocation]) -> Digest {
        MerkleList.root(evidence.map { MerkleList.leafHash($0.hash.bytes) })
    }

    public var hash: Digest { header.hash }
    public var height: UInt64 { header.height }

    public var cbor: CBOR {
        .map([
            "header": header.cbor, "txs": .array(transactions.map(\.cbor)),
            "commit": commit?.cbor ?? .null, "lastCommit": lastCommit?.cbor ?? .null, "evidence": .array(evidence.map(\.cbor)),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "block")
        header = try BlockHeader(cbor: try fields.value("header"))
        transactions = []
        for item in try fields.array("txs", countMax: Block.transactionCountMax) {
            transactions.append(try SignedTransaction(cbor: item))
        }
        commit = try Block.certificate(try fields.value("commit"))
        lastCommit = try Block.certificate(try fields.value("lastCommit"))
        evidence = []
        for item in try fields.array("evidence", countMax: Slashing.evidencePerBlockMax) { evidence.append(try Equivocation(cbor: item)) }
        try fields.finish()
    }

    private static func certificate(_ value: CBOR) throws(DecodeError) -> CommitCertificate? {
        if case .null = value { return nil }
        return try CommitCertificate(cbor: value)
    }

    public static func decodeUntrusted(_ bytes: [UInt8]) throws(DecodeError) -> Block {
        guard bytes.count <= encodedBytesMax else { throw .tooLarge }
        return try Block(encoded: bytes)
    }
}
