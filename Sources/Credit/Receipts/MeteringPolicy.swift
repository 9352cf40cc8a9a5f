/// When a provider's node serves a consumer, asks for settlement, and stops (specs/credit.md §Metering
/// in practice). Pure: the node feeds it the consumer's standing from the chain and its own counters.
///
/// A consumer under a letter of credit from the provider is billed from its first byte: the provider
/// serves while `owed + (receipted − settled) + unreceipted + next ≤ limit + tolerance`, where `owed` is
/// the consumer's debt on the line (settled usage among it), `receipted` the newest receipt's units,
/// `settled` the units of the stream's settlement on the chain and `unreceipted` what this provider
/// served since that receipt. Bytes served and not yet receipted count, so a consumer that stops signing
/// is cut off at the same point as one that signs and does not pay; it is also cut off once more than
/// `unreceiptedMax` bytes go unreceipted, so that a raised limit does not serve it on. A peer without a line (no ledger account, or none granted) is served a free allowance a day, as
/// Swarm's Bee refreshes every peer's allowance: public content stays public.
public struct MeteringPolicy: Sendable, Equatable {
    /// The consumer signs a cumulative receipt every this many bytes received (Filecoin's payment interval).
    public var receiptInterval: UInt64
    /// How far past the limit a provider serves, for blocks already asked for and receipts in flight.
    public var tolerance: UInt64
    /// Bytes served and not yet receipted beyond which a consumer is cut off whatever its limit.
    public var unreceiptedMax: UInt64
    /// Settle once unsettled receipted usage passes this share of the limit (parts per million).
    public var settleThresholdPPM: UInt64
    /// Served a day to each peer without a line.
    public var freePerDay: UInt64

    public init(receiptInterval: UInt64 = 1 << 20, tolerance: UInt64 = 1 << 20, unreceiptedMax: UInt64 = 16 << 20,
                settleThresholdPPM: UInt64 = 800_000, freePerDay: UInt64 = 1 << 30) {
        self.receiptInterval = max(1, receiptInterval)
        self.tolerance = tolerance
        self.unreceiptedMax = unreceiptedMax
        self.settleThresholdPPM = min(settleThresholdPPM, 1_000_000)
        self.freePerDay = freePerDay
    }

    /// A consumer's standing with this provider.
    public struct Standing: Sendable, Equatable {
        /// The provider's limit for the consumer now (0: no line).
        public var limit: UInt64
        /// What the consumer owes the provider on the line.
        public var owed: UInt64
        /// Units of the stream's settlement on the chain.
        public var settled: UInt64
        /// Bytes this provider has served the consumer, in total.
        public var served: UInt64
        /// Units of the newest receipt the consumer signed.
        public var receipted: UInt64
        /// Bytes served since that receipt arrived.
        public var unreceipted: UInt64

        /// `unreceipted` defaults to what `served` exceeds `receipted` by.
        public init(limit: UInt64, owed: UInt64, settled: UInt64, served: UInt64, receipted: UInt64, unreceipted: UInt64? = nil) {
            self.limit = limit
            self.owed = owed
            self.settled = settled
            self.served = served
            self.receipted = receipted
            self.unreceipted = unreceipted ?? (served - min(served, receipted))
        }

        /// Billed under a line: the provider grants one, or the consumer still owes it something.
        public var hasLine: Bool { limit > 0 || owed > 0 }

        /// What the provider stands to lose: debt, receipted usage not yet settled, and what it served since
        /// the newest receipt. Before that receipt the consumer's count is the one that bills: blocks the
        /// provider sent and the consumer never took (cancelled, late, lost in a dropped stream) are not
        /// held against it for ever.
        public var exposure: UInt64 { Self.sum(Self.sum(owed, receipted - min(receipted, settled)), unreceipted) }

        /// `a + b`, saturating: a sum past 2^64 − 1 is treated as too much, never wrapped.
        public static func sum(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (total, overflow) = a.addingReportingOverflow(b)
            return overflow ? .max : total
        }
    }

    public enum Decision: Sendable, Equatable, CustomStringConvertible {
        case serve
        /// Past the line: exposure and the limit plus tolerance it would pass.
        case creditExhausted(exposure: UInt64, limit: UInt64)
        /// Too much served without a receipt.
        case unreceipted(UInt64)
        /// A peer without a line has used its free allowance for the day.
        case allowanceUsed(UInt64)

        public var description: String {
            switch self {
            case .serve: "serve"
            case .creditExhausted(let exposure, let limit): "credit exhausted: \(exposure) bytes unpaid against a limit of \(limit)"
            case .unreceipted(let bytes): "\(bytes) bytes served without a receipt"
            case .allowanceUsed(let bytes): "free allowance of \(bytes) bytes a day used"
            }
        }
    }

    /// Whether to send `bytes` more to a consumer with `standing`; `freeUsedToday` counts for peers without a line.
    public func admit(_ bytes: UInt64, standing: Standing, freeUsedToday: UInt64) -> Decision {
        guard standing.hasLine else {
            return Standing.sum(freeUsedToday, bytes) <= freePerDay ? .serve : .allowanceUsed(freePerDay)
        }
        let exposure = Standing.sum(standing.exposure, bytes)
        if exposure > Standing.sum(standing.limit, tolerance) { return .creditExhausted(exposure: standing.exposure, limit: standing.limit) }
        let unreceipted = Standing.sum(standing.unreceipted, bytes)
        if unreceipted > unreceiptedMax { return .unreceipted(unreceipted) }
        return .serve
    }

    /// Whether the newest receipt is due for settlement: its unsettled units pass the threshold share of
    /// the limit (or the limit is gone and something is unsettled).
    public func settleDue(_ standing: Standing) -> Bool {
        guard standing.receipted > standing.settled else { return false }
        let (high, low) = standing.limit.multipliedFullWidth(by: settleThresholdPPM)
        let threshold = high >= 1_000_000 ? UInt64.max : UInt64(1_000_000).dividingFullWidth((high, low)).quotient
        return standing.receipted - standing.settled >= threshold
    }
}
