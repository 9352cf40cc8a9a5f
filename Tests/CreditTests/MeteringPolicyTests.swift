import Credit
import Testing

/// The provider's metering rule (specs/credit.md §Metering in practice): a consumer under a line is
/// served up to its limit plus the tolerance counting served bytes, not receipted ones, so one that stops
/// signing meets the same point; one far behind on receipts is cut off whatever its limit; a peer without
/// a line gets the free allowance; nothing wraps at 2^64.
@Suite struct MeteringPolicyTests {
    let policy = MeteringPolicy(receiptInterval: 1_000, tolerance: 500, unreceiptedMax: 4_000, settleThresholdPPM: 800_000, freePerDay: 10_000)

    func standing(limit: UInt64 = 10_000, owed: UInt64 = 0, settled: UInt64 = 0, served: UInt64, receipted: UInt64) -> MeteringPolicy.Standing {
        MeteringPolicy.Standing(limit: limit, owed: owed, settled: settled, served: served, receipted: receipted)
    }

    @Test func serviceStopsPastTheLimitPlusTheTolerance() {
        #expect(policy.admit(500, standing: standing(served: 10_000, receipted: 9_000), freeUsedToday: 0) == .serve)
        #expect(policy.admit(501, standing: standing(served: 10_000, receipted: 9_000), freeUsedToday: 0)
            == .creditExhausted(exposure: 10_000, limit: 10_000))
        // Settled usage is debt: it still counts until paid, and a raised limit makes room again.
        let settled = standing(owed: 9_000, settled: 9_000, served: 10_000, receipted: 10_000)
        #expect(policy.admit(501, standing: settled, freeUsedToday: 0) != .serve)
        var raised = settled
        raised.limit = 20_000
        #expect(policy.admit(501, standing: raised, freeUsedToday: 0) == .serve)
    }

    @Test func aConsumerThatStopsSigningMeetsTheSamePointAndNoMore() {
        let signing = standing(served: 9_000, receipted: 9_000), silent = standing(served: 9_000, receipted: 0)
        #expect(policy.admit(1_000, standing: signing, freeUsedToday: 0) == .serve)
        // Served bytes count, so the silent consumer's credit point is the same…
        #expect(policy.admit(2_000, standing: signing, freeUsedToday: 0) == policy.admit(2_000, standing: silent, freeUsedToday: 0))
        // …and under a large limit it is cut off once too much goes unreceipted.
        var large = silent
        large.limit = 1 << 40
        #expect(policy.admit(1, standing: large, freeUsedToday: 0) == .unreceipted(9_001))
        large.receipted = 6_000
        large.unreceipted = 3_000
        #expect(policy.admit(1, standing: large, freeUsedToday: 0) == .serve)
    }

    @Test func peersWithoutALineGetTheFreeAllowance() {
        let none = standing(limit: 0, served: 0, receipted: 0)
        #expect(!none.hasLine)
        #expect(policy.admit(1_000, standing: none, freeUsedToday: 9_000) == .serve)
        #expect(policy.admit(1_001, standing: none, freeUsedToday: 9_000) == .allowanceUsed(10_000))
        // A consumer that still owes is billed, not free, even when the line is revoked.
        #expect(policy.admit(1, standing: standing(limit: 0, owed: 600, served: 0, receipted: 0), freeUsedToday: 0) == .creditExhausted(exposure: 600, limit: 0))
    }

    @Test func hugeFiguresSaturateInsteadOfWrapping() {
        let huge = standing(limit: .max, owed: .max, settled: 0, served: .max, receipted: .max)
        #expect(huge.exposure == .max)
        #expect(policy.admit(1, standing: huge, freeUsedToday: 0) == .serve)
        #expect(policy.admit(.max, standing: huge, freeUsedToday: 0) == .unreceipted(.max))
        // A debt near 2^64 on a small line: the sum saturates and service stops.
        #expect(policy.admit(1, standing: standing(limit: 1_000, owed: .max - 5, served: 100, receipted: 100), freeUsedToday: 0)
            == .creditExhausted(exposure: .max, limit: 1_000))
        #expect(policy.admit(1, standing: standing(limit: 0, served: 0, receipted: 0), freeUsedToday: .max) == .allowanceUsed(10_000))
    }

    @Test func settlementIsDueAtTheThresholdShareOfTheLimit() {
        #expect(!policy.settleDue(standing(settled: 1_000, served: 8_000, receipted: 8_999)))
        #expect(policy.settleDue(standing(settled: 1_000, served: 9_000, receipted: 9_000)))
        #expect(!policy.settleDue(standing(settled: 9_000, served: 9_000, receipted: 9_000)))
        // Without a limit, anything receipted and unsettled is due.
        #expect(policy.settleDue(standing(limit: 0, owed: 1, served: 1, receipted: 1)))
        #expect(!policy.settleDue(standing(limit: .max, served: 1 << 62, receipted: 1 << 62)))
    }
}
