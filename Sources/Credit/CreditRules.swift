import Ledger

/// Letters of credit, first form: grant, change and revoke, each signed by the authorizer alone
/// (the authorized side risks nothing by being trusted). specs/transactions.md has the bodies.
public enum CreditRules {
    public static let grant = "credit.grant"
    public static let change = "credit.change"
    public static let revoke = "credit.revoke"
    public static let unit = "byte"

    public static var all: [TransactionRule] { [grantRule, changeRule, revokeRule] }

    public static let notFound: Rejection.Code = "unknown_credit_line"
    public static let exists: Rejection.Code = "credit_line_exists"

    public static func lineBody(to: ID, limit: UInt64, expiry: UInt64) -> CBOR {
        .map(["to": .id(to), "limit": .unsigned(limit), "expiry": .unsigned(expiry)])
    }

    public static func revokeBody(to: ID) -> CBOR { .map(["to": .id(to)]) }

    static func decodeLine(_ tx: Transaction) throws(Rejection) -> (to: ID, limit: UInt64, expiry: UInt64) {
        try tx.decodeBody { fields throws(DecodeError) in (try fields.id("to"), try fields.unsigned("limit"), try fields.unsigned("expiry")) }
    }

    static func checkTerms(_ tx: Transaction, to: ID, limit: UInt64, expiry: UInt64, context: BlockContext) throws(Rejection) {
        guard to != tx.origin else { throw Rejection(.selfReference, "an account cannot grant credit to itself") }
        guard limit > 0 else { throw Rejection(.amountNotPositive, "credit limit must be positive (use credit revoke to end a line)") }
        guard expiry > context.pulse else {
            throw Rejection(.expired, "credit expiry pulse \(expiry) is not after the current pulse \(context.pulse)")
        }
    }

    static let grantRule = TransactionRule(type: grant, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (to, limit, expiry) = try decodeLine(tx)
        try checkTerms(tx, to: to, limit: limit, expiry: expiry, context: context)
        let key = CreditLine.stateKey(authorizer: tx.origin, authorized: to)
        guard try draft.record(CreditLine.self, at: key) == nil else {
            throw Rejection(exists, "\(tx.origin) already grants credit to \(to); use credit change")
        }
        draft.put(CreditLine(authorizer: tx.origin, authorized: to, limit: limit, expiry: expiry, grantedHeight: context.height), at: key)
    }

    /// Raises or lowers the limit and sets a new expiry.
    static let changeRule = TransactionRule(type: change, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (to, limit, expiry) = try decodeLine(tx)
        try checkTerms(tx, to: to, limit: limit, expiry: expiry, context: context)
        let key = CreditLine.stateKey(authorizer: tx.origin, authorized: to)
        guard var line = try draft.record(CreditLine.self, at: key) else {
            throw Rejection(notFound, "\(tx.origin) grants no credit to \(to)")
        }
        line.limit = limit
        line.expiry = expiry
        line.changedHeight = context.height
        draft.put(line, at: key)
    }

    static let revokeRule = TransactionRule(type: revoke, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let to = try tx.decodeBody { fields throws(DecodeError) in try fields.id("to") }
        let key = CreditLine.stateKey(authorizer: tx.origin, authorized: to)
        guard try draft.record(CreditLine.self, at: key) != nil else {
            throw Rejection(notFound, "\(tx.origin) grants no credit to \(to)")
        }
        draft.set(key, nil)
    }
}
