/// A block: header, transactions, and the bookkeepers' seals on the header.
public struct Block: CBORCodable, Hashable, Sendable {
    public static let transactionCountMax = 10_000
    public static let encodedBytesMax = 32 * 1024 * 1024

    public var header: BlockHeader
    public var transactions: [SignedTransaction]
    public var seals: [Seal]

    public init(header: BlockHeader, transactions: [SignedTransaction], seals: [Seal]) {
        self.header = header
        self.transactions = transactions
        self.seals = seals
    }

    public var hash: Digest { header.hash }
    public var height: UInt64 { header.height }

    public var cbor: CBOR {
        .map([
            "header": header.cbor, "txs": .array(transactions.map(\.cbor)),
            "seals": .array(seals.map { .map(["key": .bytes($0.bookkeeper.bytes), "sig": .bytes($0.signature.bytes)]) }),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "block")
        header = try BlockHeader(cbor: try fields.value("header"))
        transactions = []
        for item in try fields.array("txs", countMax: Block.transactionCountMax) {
            transactions.append(try SignedTransaction(cbor: item))
        }
        seals = []
        for item in try fields.array("seals", countMax: BookkeeperSet.countMax) {
            var sealFields = try CBORFields(item, schema: "seal")
            let key = try sealFields.publicKey("key")
            guard let signature = try? Signature(bytes: try sealFields.bytes("sig", count: 64)) else {
                throw .schema("seal: signature must be 64 bytes")
            }
            try sealFields.finish()
            seals.append(Seal(bookkeeper: key, signature: signature))
        }
        try fields.finish()
    }

    public static func decodeUntrusted(_ bytes: [UInt8]) throws(DecodeError) -> Block {
        guard bytes.count <= encodedBytesMax else { throw .tooLarge }
        return try Block(encoded: bytes)
    }

    /// Checks that more than two thirds of the bookkeeper set sealed this header, each once.
    public func verifySeals(bookkeepers: BookkeeperSet) throws(Rejection) {
        let members = Set(bookkeepers.keys)
        let digest = header.sealingDigest
        var signed = Set<PublicKey>()
        for seal in seals {
            guard members.contains(seal.bookkeeper) else {
                throw Rejection(.badSignature, "block \(header.height) is sealed by \(seal.bookkeeper.id), who is not a bookkeeper")
            }
            guard signed.insert(seal.bookkeeper).inserted else {
                throw Rejection(.badSignature, "block \(header.height) carries two seals from \(seal.bookkeeper.id)")
            }
            guard seal.bookkeeper.verify(seal.signature, for: digest) else {
                throw Rejection(.badSignature, "a seal on block \(header.height) does not verify")
            }
        }
        guard signed.count >= bookkeepers.quorum else {
            throw Rejection(.badSignature, "block \(header.height) has \(signed.count) seals; \(bookkeepers.quorum) of \(bookkeepers.keys.count) bookkeepers are needed")
        }
    }
}
