import Ledger

/// The credit between two nodes, kept as XRP Ledger keeps a trust line: one record per pair with
/// one shared debt, each side with its own terms. Stored at `ID.derived("line", [low, high])` where
/// `low < high`; removed when both sides' terms are back to default and nothing is owed.
///
/// `owedByHigh` is what high owes low, `owedByLow` the reverse. Payments cancel debt before creating
/// debt the other way, so only one is non-zero — except that debt itemized as IOUs (`iouByHigh`,
/// `iouByLow`) is only ever repaid or moved as those IOUs, never netted or rippled away, so it can
/// stand against free debt the other way.
public struct CreditLine: StateRecord, Equatable {
    public static let kind = "line"

    public var low: ID
    public var high: ID
    /// Credit low grants high: the most high may owe low.
    public var lowTerms: CreditTerms
    /// Credit high grants low.
    public var highTerms: CreditTerms
    public var owedByHigh: UInt64
    public var owedByLow: UInt64
    public var iouByHigh: UInt64
    public var iouByLow: UInt64
    public var openedHeight: UInt64
    public var changedHeight: UInt64

    public static func stateKey(_ a: ID, _ b: ID) -> ID { a < b ? ID.derived("line", [a, b]) : ID.derived("line", [b, a]) }

    /// A new, empty line between two distinct nodes.
    public init(between a: ID, and b: ID, height: UInt64) {
        precondition(a != b, "a line joins two distinct nodes")
        low = min(a, b)
        high = max(a, b)
        lowTerms = .none
        highTerms = .none
        owedByHigh = 0
        owedByLow = 0
        iouByHigh = 0
        iouByLow = 0
        openedHeight = height
        changedHeight = height
    }

    public var stateKey: ID { ID.derived("line", [low, high]) }

    public func other(_ party: ID) -> ID { party == low ? high : low }

    /// The terms `grantor` extends to the other side.
    public func terms(grantedBy grantor: ID) -> CreditTerms { grantor == low ? lowTerms : highTerms }

    public mutating func setTerms(grantedBy grantor: ID, _ terms: CreditTerms) {
        if grantor == low { lowTerms = terms } else { highTerms = terms }
    }

    /// What `debtor` owes the other side.
    public func debt(of debtor: ID) -> UInt64 { debtor == high ? owedByHigh : owedByLow }

    /// The part of `debtor`'s debt itemized as IOUs.
    public func itemized(of debtor: ID) -> UInt64 { debtor == high ? iouByHigh : iouByLow }

    /// Debt of `debtor` that is not tied to an IOU: what netting and rippling may reduce.
    public func freeDebt(of debtor: ID) -> UInt64 { debt(of: debtor) - itemized(of: debtor) }

    /// How much more `debtor` may come to owe now: the other side's limit minus what it already owes
    /// (zero when already beyond a lowered or expired limit; that debt stays due).
    public func room(forDebtor debtor: ID, atPulse pulse: UInt64) -> UInt64 {
        let limit = terms(grantedBy: other(debtor)).limit(atPulse: pulse)
        let owed = debt(of: debtor)
        return limit > owed ? limit - owed : 0
    }

    /// How much value can move from `payer` to the other side over this line: first by cancelling
    /// free debt the other side owes the payer, then by new debt of the payer within its room.
    public func capacity(from payer: ID, atPulse pulse: UInt64) -> UInt64 {
        let (total, overflow) = freeDebt(of: other(payer)).addingReportingOverflow(room(forDebtor: payer, atPulse: pulse))
        return overflow ? .max : total
    }

    /// Moves `amount` from `payer` to the other side (the caller has checked `capacity`).
    public mutating func move(_ amount: UInt64, from payer: ID) {
        let payee = other(payer)
        let cancelled = min(amount, freeDebt(of: payee))
        addDebt(of: payee, -Int128(cancelled))
        addDebt(of: payer, Int128(amount - cancelled))
    }

    /// Adds (or with a negative change, removes) debt of `debtor`. Callers keep within bounds.
    public mutating func addDebt(of debtor: ID, _ change: Int128) {
        if debtor == high {
            owedByHigh = UInt64(Int128(owedByHigh) + change)
        } else {
            owedByLow = UInt64(Int128(owedByLow) + change)
        }
    }

    public mutating func addItemized(of debtor: ID, _ change: Int128) {
        if debtor == high {
            iouByHigh = UInt64(Int128(iouByHigh) + change)
        } else {
            iouByLow = UInt64(Int128(iouByLow) + change)
        }
    }

    /// Nothing granted, nothing owed: the record can go.
    public var isDefault: Bool { lowTerms.isDefault && highTerms.isDefault && owedByHigh == 0 && owedByLow == 0 }

    // MARK: - Encoding

    public var fields: [String: CBOR] {
        [
            "low": .id(low), "high": .id(high), "lowTerms": lowTerms.fields, "highTerms": highTerms.fields,
            "owedByHigh": .unsigned(owedByHigh), "owedByLow": .unsigned(owedByLow), "iouByHigh": .unsigned(iouByHigh),
            "iouByLow": .unsigned(iouByLow), "opened": .unsigned(openedHeight), "changed": .unsigned(changedHeight),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        low = try fields.id("low")
        high = try fields.id("high")
        lowTerms = try CreditTerms(cbor: try fields.value("lowTerms"))
        highTerms = try CreditTerms(cbor: try fields.value("highTerms"))
        owedByHigh = try fields.unsigned("owedByHigh")
        owedByLow = try fields.unsigned("owedByLow")
        iouByHigh = try fields.unsigned("iouByHigh")
        iouByLow = try fields.unsigned("iouByLow")
        openedHeight = try fields.unsigned("opened")
        changedHeight = try fields.unsigned("changed")
        guard low < high, iouByHigh <= owedByHigh, iouByLow <= owedByLow else {
            throw .schema("line: inconsistent record")
        }
    }
}

extension StateDraft {
    /// The line between two nodes, or a new empty one.
    public func line(_ a: ID, _ b: ID, height: UInt64) throws(Rejection) -> CreditLine {
        try record(CreditLine.self, at: CreditLine.stateKey(a, b)) ?? CreditLine(between: a, and: b, height: height)
    }

    /// Stores a line, or removes it when it is back to its default.
    public mutating func putLine(_ line: CreditLine) {
        set(line.stateKey, line.isDefault ? nil : line.cbor)
    }
}
