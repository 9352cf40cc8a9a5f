import Ledger

/// Letters of credit: grant, change (raise, lower, reschedule, set rippling) and revoke, each signed by
/// the grantor alone — the other side risks nothing by being trusted. Lowering, revoking or expiring
/// stops new debt beyond the new limit; debt already incurred stays due. specs/credit.md has the bodies.
public enum LineRules {
    public static let grant = "credit.grant"
    public static let change = "credit.change"
    public static let revoke = "credit.revoke"

    public static var all: [TransactionRule] { [grantRule, changeRule, revokeRule] }

    /// The terms in a grant or change body.
    public struct Terms: Sendable {
        public var to: ID
        public var limit: UInt64
        public var expiry: UInt64
        public var increment: UInt64 = 0
        public var period: UInt64 = 0
        public var cap: UInt64 = 0
        public var allowRipple: Bool = false

        public init(to: ID, limit: UInt64, expiry: UInt64, increment: UInt64 = 0, period: UInt64 = 0, cap: UInt64 = 0, allowRipple: Bool = false) {
            self.to = to
            self.limit = limit
            self.expiry = expiry
            self.increment = increment
            self.period = period
            self.cap = cap
            self.allowRipple = allowRipple
        }

        /// Optional fields are left out when at their defaults, so one set of terms has one encoding.
        public var body: CBOR {
            var map: [String: CBOR] = ["to": .id(to), "limit": .unsigned(limit), "expiry": .unsigned(expiry)]
            if increment > 0 || period > 0 || cap > 0 {
                map["increment"] = .unsigned(increment)
                map["period"] = .unsigned(period)
                map["cap"] = .unsigned(cap)
            }
            if allowRipple { map["ripple"] = .bool(true) }
            return .map(map)
        }

        static func decode(_ tx: Transaction) throws(Rejection) -> Terms {
            try tx.decodeBody { fields throws(DecodeError) in
                var terms = Terms(to: try fields.id("to"), limit: try fields.unsigned("limit"), expiry: try fields.unsigned("expiry"))
                if fields.hasField("increment") || fields.hasField("period") || fields.hasField("cap") {
                    terms.increment = try fields.unsigned("increment")
                    terms.period = try fields.unsigned("period")
                    terms.cap = try fields.unsigned("cap")
                    guard terms.increment > 0, terms.period > 0, terms.cap > terms.limit else {
                        throw .schema("\(tx.type): a schedule needs increment > 0, period > 0 and cap above the limit")
                    }
                }
                if fields.hasField("ripple") {
                    guard try fields.bool("ripple") else { throw .schema("\(tx.type): 'ripple' is written only when true") }
                    terms.allowRipple = true
                }
                return terms
            }
        }

        func checked(_ tx: Transaction, context: BlockContext) throws(Rejection) -> CreditTerms {
            guard to != tx.origin else { throw Rejection(.selfReference, "an account cannot grant credit to itself") }
            guard limit > 0 else { throw Rejection(.amountNotPositive, "credit limit must be positive (use credit revoke to end a line)") }
            guard expiry > context.pulse else {
                throw Rejection(.expired, "credit expiry pulse \(expiry) is not after the current pulse \(context.pulse)")
            }
            return CreditTerms(base: limit, expiry: expiry, increment: increment, period: period, cap: cap, since: context.pulse, allowRipple: allowRipple)
        }
    }

    public static let notFound: Rejection.Code = "unknown_credit_line"
    public static let exists: Rejection.Code = "credit_line_exists"

    public static func revokeBody(to: ID) -> CBOR { .map(["to": .id(to)]) }

    static let grantRule = TransactionRule(type: grant, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let terms = try Terms.decode(tx)
        let granted = try terms.checked(tx, context: context)
        var line = try draft.line(tx.origin, terms.to, height: context.height)
        guard line.terms(grantedBy: tx.origin).base == 0 else {
            throw Rejection(exists, "\(tx.origin) already grants credit to \(terms.to); use credit change")
        }
        line.setTerms(grantedBy: tx.origin, granted)
        line.changedHeight = context.height
        draft.putLine(line)
    }

    static let changeRule = TransactionRule(type: change, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let terms = try Terms.decode(tx)
        let granted = try terms.checked(tx, context: context)
        guard var line = try draft.record(CreditLine.self, at: CreditLine.stateKey(tx.origin, terms.to)),
            line.terms(grantedBy: tx.origin).base > 0
        else { throw Rejection(notFound, "\(tx.origin) grants no credit to \(terms.to)") }
        line.setTerms(grantedBy: tx.origin, granted)
        line.changedHeight = context.height
        draft.putLine(line)
    }

    /// Ends the grantor's letter of credit; whatever the other side owes stays owed.
    static let revokeRule = TransactionRule(type: revoke, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let to = try tx.decodeBody { fields throws(DecodeError) in try fields.id("to") }
        guard var line = try draft.record(CreditLine.self, at: CreditLine.stateKey(tx.origin, to)),
            line.terms(grantedBy: tx.origin).base > 0
        else { throw Rejection(notFound, "\(tx.origin) grants no credit to \(to)") }
        line.setTerms(grantedBy: tx.origin, .none)
        line.changedHeight = context.height
        draft.putLine(line)
    }
}
