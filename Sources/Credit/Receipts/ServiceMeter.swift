/// A provider's rule for when to keep serving: it counts usage not yet settled on top of what the
/// consumer already owes, and asks for settlement past the pay threshold and stops past the disconnect
/// threshold (both in parts per million of the consumer's credit limit). Pure; providers feed it.
public struct ServiceMeter: Sendable, Equatable {
    public enum Decision: String, Sendable, Equatable {
        case serve
        /// Keep serving, but settle the latest receipt now.
        case settle
        /// Unpaid usage would exceed the line: stop until it is settled or paid.
        case stop
    }

    public static let million: UInt64 = 1_000_000
    public var payThresholdPPM: UInt64
    public var disconnectThresholdPPM: UInt64

    public init(payThresholdPPM: UInt64 = 800_000, disconnectThresholdPPM: UInt64 = 1_000_000) {
        self.payThresholdPPM = payThresholdPPM
        self.disconnectThresholdPPM = max(disconnectThresholdPPM, payThresholdPPM)
    }

    /// `owed`: what the consumer owes already; `unsettled`: the value of usage since the last settled
    /// receipt, plus what serving the next request would add.
    public func decide(limit: UInt64, owed: UInt64, unsettled: UInt64) -> Decision {
        let exposure = owed.addingReportingOverflow(unsettled)
        if exposure.overflow { return .stop }
        if exposure.partialValue > threshold(limit, disconnectThresholdPPM) { return .stop }
        if exposure.partialValue > threshold(limit, payThresholdPPM) { return .settle }
        return .serve
    }

    private func threshold(_ limit: UInt64, _ ppm: UInt64) -> UInt64 {
        let (high, low) = limit.multipliedFullWidth(by: ppm)
        guard high < ServiceMeter.million else { return .max }
        let (quotient, _) = ServiceMeter.million.dividingFullWidth((high, low))
        return quotient
    }
}
