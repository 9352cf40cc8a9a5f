import Credit
import Ledger
import LedgerTestSupport
import Testing

@Suite struct LineTests {
    @Test func grantRaiseLowerRevoke() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        #expect(world.line(0, 1)?.terms(grantedBy: world.id(0)).base == 1000)
        expectRejection(LineRules.exists) { try world.grant(0, to: 1, limit: 5) }
        try world.change(0, to: 1, limit: 2000)  // raise
        #expect(world.line(0, 1)?.terms(grantedBy: world.id(0)).base == 2000)
        try world.change(0, to: 1, limit: 100)  // lower
        #expect(world.line(0, 1)?.terms(grantedBy: world.id(0)).base == 100)
        try world.revoke(0, from: 1)
        #expect(world.line(0, 1) == nil, "a line back at its default is removed")
        expectRejection(LineRules.notFound) { try world.revoke(0, from: 1) }
    }

    @Test func bothSidesShareOneRecord() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        try world.grant(1, to: 0, limit: 50)
        let line = try #require(world.line(0, 1))
        #expect(line.terms(grantedBy: world.id(0)).base == 1000 && line.terms(grantedBy: world.id(1)).base == 50)
        #expect(world.chain.records(CreditLine.self).count == 1)
    }

    @Test func lowerOrRevokeStopsNewDebtButKeepsOldDebt() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(0), amount: 600, memo: ""), [world[1]])
        try world.change(0, to: 1, limit: 500)
        #expect(world.debt(1, to: 0) == 600, "lowering keeps the debt")
        expectRejection(IOURules.beyondLine) {
            try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(0), amount: 1, memo: ""), [world[1]])
        }
        try world.revoke(0, from: 1)
        #expect(world.debt(1, to: 0) == 600, "revoking keeps the debt")
        #expect(world.line(0, 1) != nil, "a line with debt stays")
    }

    @Test func expiryEndsNewDebt() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000, expiry: world.chain.pulse + 3)
        world.chain.pulseStep = 10
        expectRejection(IOURules.beyondLine) {
            try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(0), amount: 1, memo: ""), [world[1]])
        }
    }

    @Test func scheduledIncrementsRaiseTheLimitUpToTheCap() {
        let terms = CreditTerms(base: 100, expiry: 10_000, increment: 50, period: 10, cap: 300, since: 1000)
        #expect(terms.limit(atPulse: 1000) == 100)
        #expect(terms.limit(atPulse: 1009) == 100)
        #expect(terms.limit(atPulse: 1010) == 150)
        #expect(terms.limit(atPulse: 1035) == 250)
        #expect(terms.limit(atPulse: 5000) == 300)
        #expect(terms.limit(atPulse: 10_001) == 0)
        let huge = CreditTerms(base: .max - 1, expiry: .max, increment: .max, period: 1, cap: .max, since: 0)
        #expect(huge.limit(atPulse: .max) == .max, "saturates instead of overflowing")
    }

    @Test func badTermsAreRejected() {
        var world = CreditWorld()
        expectRejection(.amountNotPositive) { try world.grant(0, to: 1, limit: 0) }
        expectRejection(.expired) { try world.grant(0, to: 1, limit: 5, expiry: 0) }
        expectRejection(.selfReference) { try world.grant(0, to: 0, limit: 5) }
        expectRejection(.malformed) { try world.grant(0, to: 1, limit: 5, schedule: (increment: 0, period: 10, cap: 50)) }
        expectRejection(LineRules.notFound) { try world.change(1, to: 0, limit: 5) }
    }
}
