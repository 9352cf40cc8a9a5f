import Ledger

/// A forwarding contract: `relay` carries traffic for `client` at `pricePPM` bandwidth bytes per
/// million relayed bytes, billed by the client's usage receipts (service `forward`). Both sign it;
/// either may end it. Stored at `ID.derived("forward", client || relay || client's nonce)`.
public struct ForwardContract: StateRecord, Equatable {
    public static let kind = "forward"

    public var id: ID
    public var client: ID
    public var relay: ID
    public var pricePPM: UInt64
    public var createdHeight: UInt64
    public var ended: Bool

    public var fields: [String: CBOR] {
        ["id": .id(id), "client": .id(client), "relay": .id(relay), "pricePPM": .unsigned(pricePPM),
         "created": .unsigned(createdHeight), "ended": .bool(ended)]
    }

    public init(id: ID, client: ID, relay: ID, pricePPM: UInt64, createdHeight: UInt64) {
        self.id = id
        self.client = client
        self.relay = relay
        self.pricePPM = pricePPM
        self.createdHeight = createdHeight
        self.ended = false
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        id = try fields.id("id")
        client = try fields.id("client")
        relay = try fields.id("relay")
        pricePPM = try fields.unsigned("pricePPM")
        createdHeight = try fields.unsigned("created")
        ended = try fields.bool("ended")
    }

    /// Bandwidth bytes owed for `bytes` relayed: ⌈bytes × pricePPM / 10^6⌉, or nil past 2^64−1.
    public func value(ofBytes bytes: UInt64) -> UInt64? {
        let (high, low) = bytes.multipliedFullWidth(by: pricePPM)
        let rounded = (high, low).1.addingReportingOverflow(999_999)
        let carry: UInt64 = rounded.overflow ? 1 : 0
        guard high + carry < 1_000_000 else { return nil }
        return UInt64(1_000_000).dividingFullWidth((high + carry, rounded.partialValue)).quotient
    }

    public static func stateKey(client: ID, relay: ID, nonce: UInt64) -> ID {
        ID.derived("forward", data: client.bytes + relay.bytes + nonce.bigEndianBytes)
    }
}

/// `contract.forward.create` (client and relay sign) and `contract.forward.end` (either signs).
public enum ForwardRules {
    public static let create = "contract.forward.create"
    public static let end = "contract.forward.end"
    public static let unknown: Rejection.Code = "unknown_contract"

    public static var all: [TransactionRule] { [createRule, endRule] }

    public static func createBody(relay: ID, pricePPM: UInt64) -> CBOR { .map(["relay": .id(relay), "pricePPM": .unsigned(pricePPM)]) }
    public static func endBody(contract: ID) -> CBOR { .map(["contract": .id(contract)]) }

    static let createRule = TransactionRule(type: create, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let (relay, price) = try tx.decodeBody { fields throws(DecodeError) in (try fields.id("relay"), try fields.unsigned("pricePPM")) }
        guard tx.signers[1].id == relay else { throw Rejection(.wrongSigners, "the second signer must be the relay \(relay)") }
        guard relay != tx.origin else { throw Rejection(.selfReference, "a node does not relay for itself under contract") }
        guard price > 0 else { throw Rejection(.amountNotPositive, "price must be positive") }
        let id = ForwardContract.stateKey(client: tx.origin, relay: relay, nonce: tx.nonce)
        draft.put(ForwardContract(id: id, client: tx.origin, relay: relay, pricePPM: price, createdHeight: context.height), at: id)
    }

    static let endRule = TransactionRule(type: end, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let id = try tx.decodeBody { fields throws(DecodeError) in try fields.id("contract") }
        guard var contract = try draft.record(ForwardContract.self, at: id), !contract.ended else {
            throw Rejection(unknown, "no open forwarding contract \(id)")
        }
        guard tx.origin == contract.client || tx.origin == contract.relay else {
            throw Rejection(.wrongSigners, "only the client or the relay ends forwarding contract \(id)")
        }
        contract.ended = true
        draft.put(contract, at: id)
    }
}
