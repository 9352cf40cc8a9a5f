import Ledger

/// The Credit module's face to the rest of the system: every rule it contributes, and shorthands for
/// the letters of credit that most callers need.
public enum CreditRules {
    public static var all: [TransactionRule] {
        LineRules.all + IOURules.all + [PaymentRule.rule, Netting.rule] + SettlementRules.all + StorageRules.all + ForwardRules.all
    }

    public static let grant = LineRules.grant
    public static let change = LineRules.change
    public static let revoke = LineRules.revoke
    public static let exists = LineRules.exists
    public static let notFound = LineRules.notFound

    /// A grant or change body with a plain limit and expiry.
    public static func lineBody(to: ID, limit: UInt64, expiry: UInt64) -> CBOR {
        LineRules.Terms(to: to, limit: limit, expiry: expiry).body
    }

    public static func revokeBody(to: ID) -> CBOR { LineRules.revokeBody(to: to) }
}
