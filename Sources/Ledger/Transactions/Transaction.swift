/// What a transaction asks the ledger to do, before signatures.
///
/// `signers[0]` is the origin: `nonce` must equal the origin account's next nonce, which makes every
/// transaction single-use. Every signer signs `signingDigest`, so a transfer carries the payer's and
/// the payee's signature (GongShi's rule that both parties confirm). The rules per `type` are in
/// specs/transactions.md.
public struct Transaction: CBORCodable, Hashable, Sendable {
    public static let signersMax = 8
    public static let encodedBytesMax = 16 * 1024

    public var chain: String
    public var type: String
    public var signers: [PublicKey]
    public var nonce: UInt64
    /// The last pulse at which the transaction may be included in a block.
    public var expiry: UInt64
    public var body: CBOR

    public init(chain: String, type: String, signers: [PublicKey], nonce: UInt64, expiry: UInt64, body: CBOR) {
        self.chain = chain
        self.type = type
        self.signers = signers
        self.nonce = nonce
        self.expiry = expiry
        self.body = body
    }

    public var cbor: CBOR {
        .map([
            "chain": .text(chain), "type": .text(type), "signers": .array(signers.map { .bytes($0.bytes) }),
            "nonce": .unsigned(nonce), "expiry": .unsigned(expiry), "body": body,
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "transaction")
        chain = try fields.text("chain", lengthMax: 64)
        type = try fields.text("type", lengthMax: 64)
        let signerItems = try fields.array("signers", countMax: Transaction.signersMax)
        guard !signerItems.isEmpty else { throw .schema("transaction: needs at least one signer") }
        var signers: [PublicKey] = []
        for item in signerItems {
            guard case .bytes(let raw) = item, let key = try? PublicKey(bytes: raw) else {
                throw .schema("transaction: a signer is not a 32-byte x-only public key")
            }
            signers.append(key)
        }
        guard Set(signers).count == signers.count else { throw .schema("transaction: a signer appears twice") }
        self.signers = signers
        nonce = try fields.unsigned("nonce")
        expiry = try fields.unsigned("expiry")
        body = try fields.value("body")
        guard case .map = body else { throw .schema("transaction: body must be a map") }
        try fields.finish()
    }

    /// The transaction ID: SHA-256 of the unsigned encoding, so it does not depend on signatures.
    public var id: Digest { SHA256.hash(encoded) }

    /// What each signer signs (domain-separated so it can never be replayed as a block signature).
    public var signingDigest: Digest { SHA256.tagged("ledgerd/tx", encoded) }

    public var origin: ID { signers[0].id }
}

/// A transaction with one signature per signer, in the signers' order.
public struct SignedTransaction: CBORCodable, Hashable, Sendable {
    public var transaction: Transaction
    public var signatures: [Signature]

    public init(transaction: Transaction, signatures: [Signature]) {
        self.transaction = transaction
        self.signatures = signatures
    }

    /// Signs with the given keys, which must be the signers in order.
    public init(transaction: Transaction, keys: [SecretKey]) {
        precondition(keys.map(\.publicKey) == transaction.signers, "keys must match the signers in order")
        let digest = transaction.signingDigest
        self.init(transaction: transaction, signatures: keys.map { $0.sign(digest) })
    }

    public var cbor: CBOR {
        .map(["tx": transaction.cbor, "sigs": .array(signatures.map { .bytes($0.bytes) })])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "signed transaction")
        transaction = try Transaction(cbor: try fields.value("tx"))
        let items = try fields.array("sigs", countMax: Transaction.signersMax)
        var signatures: [Signature] = []
        for item in items {
            guard case .bytes(let raw) = item, let signature = try? Signature(bytes: raw) else {
                throw .schema("signed transaction: a signature is not 64 bytes")
            }
            signatures.append(signature)
        }
        self.signatures = signatures
        try fields.finish()
    }

    /// Decodes a transaction received from outside, with the size bound applied first.
    public static func decodeUntrusted(_ bytes: [UInt8]) throws(DecodeError) -> SignedTransaction {
        guard bytes.count <= Transaction.encodedBytesMax else { throw .tooLarge }
        return try SignedTransaction(encoded: bytes)
    }

    public var id: Digest { transaction.id }

    /// True when there is one valid signature per signer.
    public func signaturesAreValid() -> Bool {
        guard signatures.count == transaction.signers.count else { return false }
        let digest = transaction.signingDigest
        for (key, signature) in zip(transaction.signers, signatures) where !key.verify(signature, for: digest) {
            return false
        }
        return true
    }
}
