import Ledger

/// What one side of a credit line grants the other: a letter of credit. The effective limit is a pure
/// function of the pulse, so a scheduled increment needs no transaction to take effect.
///
/// `limit(atPulse:)` = 0 after `expiry`; otherwise `base + increment × ⌊(pulse − since) / period⌋`,
/// never above `cap` (and never below `base`).
public struct CreditTerms: Equatable, Sendable {
    public var base: UInt64
    public var expiry: UInt64
    public var increment: UInt64
    /// Pulses between increments; 0 means no schedule.
    public var period: UInt64
    public var cap: UInt64
    /// The pulse from which the schedule counts.
    public var since: UInt64
    /// Whether payments may ripple through this side's node along this line (off by default: a node
    /// becomes an intermediary only when it says so).
    public var allowRipple: Bool

    public static let none = CreditTerms(base: 0, expiry: 0, increment: 0, period: 0, cap: 0, since: 0, allowRipple: false)

    public init(base: UInt64, expiry: UInt64, increment: UInt64 = 0, period: UInt64 = 0, cap: UInt64 = 0, since: UInt64, allowRipple: Bool = false) {
        self.base = base
        self.expiry = expiry
        self.increment = increment
        self.period = period
        self.cap = cap
        self.since = since
        self.allowRipple = allowRipple
    }

    public var isDefault: Bool { base == 0 && increment == 0 && !allowRipple }

    /// The most the other side may owe at `pulse`.
    public func limit(atPulse pulse: UInt64) -> UInt64 {
        guard pulse <= expiry else { return 0 }
        guard period > 0, increment > 0, pulse > since else { return base }
        let steps = (pulse - since) / period
        let (raise, overflow) = increment.multipliedReportingOverflow(by: steps)
        let ceiling = max(cap, base)
        if overflow { return ceiling }
        let (total, overflow2) = base.addingReportingOverflow(raise)
        return overflow2 ? ceiling : min(total, ceiling)
    }

    var fields: CBOR {
        .map([
            "base": .unsigned(base), "expiry": .unsigned(expiry), "increment": .unsigned(increment), "period": .unsigned(period),
            "cap": .unsigned(cap), "since": .unsigned(since), "ripple": .bool(allowRipple),
        ])
    }

    init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "credit terms")
        base = try fields.unsigned("base")
        expiry = try fields.unsigned("expiry")
        increment = try fields.unsigned("increment")
        period = try fields.unsigned("period")
        cap = try fields.unsigned("cap")
        since = try fields.unsigned("since")
        allowRipple = try fields.bool("ripple")
        try fields.finish()
    }
}
