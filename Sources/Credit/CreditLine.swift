import Ledger

/// A letter of credit, first form: the authorizer lets the authorized use up to `limit` bandwidth
/// bytes of its services until pulse `expiry`. Stored at `ID.derived("credit", [authorizer, authorized])`.
public struct CreditLine: StateRecord, Equatable {
    public static let kind = "credit"

    public var authorizer: ID
    public var authorized: ID
    /// The unit of the line; "byte" (bandwidth) is the only one so far.
    public var unit: String
    public var limit: UInt64
    public var expiry: UInt64
    public var grantedHeight: UInt64
    public var changedHeight: UInt64

    public static func stateKey(authorizer: ID, authorized: ID) -> ID { ID.derived("credit", [authorizer, authorized]) }

    public init(authorizer: ID, authorized: ID, unit: String = "byte", limit: UInt64, expiry: UInt64, grantedHeight: UInt64) {
        self.authorizer = authorizer
        self.authorized = authorized
        self.unit = unit
        self.limit = limit
        self.expiry = expiry
        self.grantedHeight = grantedHeight
        self.changedHeight = grantedHeight
    }

    public var fields: [String: CBOR] {
        [
            "from": .id(authorizer), "to": .id(authorized), "unit": .text(unit), "limit": .unsigned(limit),
            "expiry": .unsigned(expiry), "granted": .unsigned(grantedHeight), "changed": .unsigned(changedHeight),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        authorizer = try fields.id("from")
        authorized = try fields.id("to")
        unit = try fields.text("unit", lengthMax: 16)
        limit = try fields.unsigned("limit")
        expiry = try fields.unsigned("expiry")
        grantedHeight = try fields.unsigned("granted")
        changedHeight = try fields.unsigned("changed")
    }

    /// True while the line can carry new debt.
    public func isActive(atPulse pulse: UInt64) -> Bool { pulse <= expiry }
}
