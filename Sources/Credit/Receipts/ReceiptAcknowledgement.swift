import Ledger

/// "Through receipt `sequence` of this stream, I count `units` of use": signed by the *provider*. It is
/// the consumer's evidence in a dispute, because the consumer cannot make it alone: a provider who
/// settles more units than it acknowledged for a receipt at least as new is caught by its own signature.
/// The provider's node gives one for each receipt it accepts while service flows. specs/credit.md.
public struct ReceiptAcknowledgement: CBORCodable, Hashable, Sendable {
    public var receipt: UsageReceipt
    public var key: PublicKey
    public var signature: Signature

    public static let domainTag = "ledgerd/receipt-ack"

    public static func signingDigest(_ receipt: UsageReceipt) -> Digest { SHA256.tagged(domainTag, receipt.encoded) }

    public init(receipt: UsageReceipt, providerKey: SecretKey) {
        self.receipt = receipt
        self.key = providerKey.publicKey
        self.signature = providerKey.sign(ReceiptAcknowledgement.signingDigest(receipt))
    }

    public var cbor: CBOR { .map(["ack": receipt.cbor, "key": .bytes(key.bytes), "sig": .bytes(signature.bytes)]) }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "receipt acknowledgement")
        receipt = try UsageReceipt(cbor: try fields.value("ack"))
        key = try fields.publicKey("key")
        guard let signature = try? Signature(bytes: try fields.bytes("sig", count: 64)) else {
            throw .schema("receipt acknowledgement: bad signature")
        }
        self.signature = signature
        try fields.finish()
    }

    /// Signed by the provider named in it.
    public func verify() throws(SignedReceipt.Invalid) {
        guard key.id == receipt.provider else { throw .notTheProvidersKey }
        guard key.verify(signature, for: ReceiptAcknowledgement.signingDigest(receipt)) else { throw .badSignature }
    }
}
