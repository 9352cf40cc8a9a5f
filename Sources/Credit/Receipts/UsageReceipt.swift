import Ledger

/// What a service is measured in, and how it converts to bandwidth bytes (DESIGN §6: bandwidth is the
/// unit of settlement; storage and CPU convert by the network's coefficients, forwarding by its
/// contract's price).
public enum Service: String, Sendable, CaseIterable {
    /// Bytes served.
    case bandwidth
    /// Byte-days stored.
    case storage
    /// CPU seconds.
    case cpu
    /// Bytes relayed under a forwarding contract.
    case forward
}

/// "I have used `units` (cumulative) of `provider`'s `service`; this is my receipt number `sequence`."
/// Signed by the consumer, exchanged off the chain while service flows; only the latest matters, as with
/// Swarm's cumulative cheques. specs/credit.md gives the encoding.
public struct UsageReceipt: CBORCodable, Hashable, Sendable {
    public var chain: String
    public var provider: ID
    public var consumer: ID
    public var service: Service
    /// The forwarding contract, for `forward`; absent otherwise.
    public var contract: ID?
    public var sequence: UInt64
    public var units: UInt64

    public init(chain: String, provider: ID, consumer: ID, service: Service, contract: ID? = nil, sequence: UInt64, units: UInt64) {
        self.chain = chain
        self.provider = provider
        self.consumer = consumer
        self.service = service
        self.contract = contract
        self.sequence = sequence
        self.units = units
    }

    public var cbor: CBOR {
        var map: [String: CBOR] = [
            "chain": .text(chain), "provider": .id(provider), "consumer": .id(consumer), "service": .text(service.rawValue),
            "sequence": .unsigned(sequence), "units": .unsigned(units),
        ]
        if let contract { map["contract"] = .id(contract) }
        return .map(map)
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "receipt")
        chain = try fields.text("chain", lengthMax: 64)
        provider = try fields.id("provider")
        consumer = try fields.id("consumer")
        guard let service = Service(rawValue: try fields.text("service", lengthMax: 16)) else {
            throw .schema("receipt: service must be bandwidth, storage, cpu or forward")
        }
        self.service = service
        contract = fields.hasField("contract") ? try fields.id("contract") : nil
        guard (service == .forward) == (contract != nil) else { throw .schema("receipt: 'contract' is required for forward, and only for it") }
        sequence = try fields.unsigned("sequence")
        units = try fields.unsigned("units")
        try fields.finish()
    }

    public var signingDigest: Digest { SHA256.tagged("ledgerd/receipt", encoded) }

    /// The stream a receipt belongs to: one per provider, consumer and service (and contract).
    public var streamKey: ID {
        ID.derived("settlement", data: provider.bytes + consumer.bytes + Array(service.rawValue.utf8) + (contract?.bytes ?? []))
    }
}

/// A receipt with the consumer's key and signature.
public struct SignedReceipt: CBORCodable, Hashable, Sendable {
    public var receipt: UsageReceipt
    public var key: PublicKey
    public var signature: Signature

    public init(receipt: UsageReceipt, key: SecretKey) {
        self.receipt = receipt
        self.key = key.publicKey
        self.signature = key.sign(receipt.signingDigest)
    }

    public init(receipt: UsageReceipt, key: PublicKey, signature: Signature) {
        self.receipt = receipt
        self.key = key
        self.signature = signature
    }

    public var cbor: CBOR { .map(["receipt": receipt.cbor, "key": .bytes(key.bytes), "sig": .bytes(signature.bytes)]) }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "signed receipt")
        receipt = try UsageReceipt(cbor: try fields.value("receipt"))
        key = try fields.publicKey("key")
        guard let signature = try? Signature(bytes: try fields.bytes("sig", count: 64)) else { throw .schema("signed receipt: bad signature") }
        self.signature = signature
        try fields.finish()
    }

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case notTheConsumersKey, notTheProvidersKey, badSignature

        public var description: String {
            switch self {
            case .notTheConsumersKey: "the receipt is not signed with the consumer's key"
            case .notTheProvidersKey: "the acknowledgement is not signed with the provider's key"
            case .badSignature: "the receipt's signature does not verify"
            }
        }
    }

    /// Pure verification: signed by the consumer named in it.
    public func verify() throws(Invalid) {
        guard key.id == receipt.consumer else { throw .notTheConsumersKey }
        guard key.verify(signature, for: receipt.signingDigest) else { throw .badSignature }
    }
}
