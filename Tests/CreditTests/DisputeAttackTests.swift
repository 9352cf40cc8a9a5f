import Credit
import Ledger
import LedgerTestSupport
import Testing

/// Issue 9, holes 2 and 3, written as the attacks: a consumer who signs its own "newer" receipts to win
/// disputes, a receipt numbered 2^64−1 that would freeze its stream, and a storage challenge made in
/// the last pulse of a period so that it cannot be answered in time.
@Suite struct DisputeAttackTests {
    @Test func aConsumerCannotWinADisputeWithAReceiptItSignedItself() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 4, units: 400)), [world[0]])
        let holdings = world.totalHoldings
        let providerDeposit = world.chain.record(Settlement.self, at: world.stream(provider: 0, consumer: 1))!.deposit
        // Same units under a higher number, and more units: both are only the consumer's word.
        for forged in [world.receipt(provider: 0, consumer: 1, sequence: 5, units: 400), world.receipt(provider: 0, consumer: 1, sequence: .max, units: 401)] {
            expectRejection(SettlementRules.badEvidence) { try world.chain.submit(SettlementRules.dispute, SettlementRules.body(forged), [world[1]]) }
        }
        let record = world.chain.record(Settlement.self, at: world.stream(provider: 0, consumer: 1))!
        #expect(record.deposit == providerDeposit && record.submitter == world.id(0) && record.units == 400)
        #expect(world.totalHoldings == holdings)
    }

    @Test func aProviderCannotWinWithItsOwnAcknowledgement() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 100)), [world[1]])
        let ack = world.acknowledgement(provider: 0, consumer: 1, sequence: 9, units: 50)
        expectRejection(SettlementRules.badEvidence) {
            try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [world[0]])
        }
    }

    @Test func aReceiptNumberedTwoToTheSixtyFourDoesNotFreezeTheStream() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        let deposit = ChainParameters.settlementDepositDefault
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: .max, units: 100)), [world[1]])
        let provider = world.balance(0)
        // The provider's newer receipt shows more use; its lower number does not matter.
        try world.chain.submit(SettlementRules.dispute, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 3, units: 500)), [world[0]])
        #expect(world.debt(1, to: 0) == 500)
        #expect(world.balance(0) == provider + deposit - deposit, "the consumer's deposit is won, the provider's posted")
    }

    @Test func theProvidersAcknowledgementWinsAgainstAnOverclaim() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        let deposit = ChainParameters.settlementDepositDefault
        let holdings = world.totalHoldings
        let consumer = world.balance(1)
        // The provider acknowledged 300 units at receipt 4, then settles a receipt 4 claiming 400.
        let ack = world.acknowledgement(provider: 0, consumer: 1, sequence: 4, units: 300)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 4, units: 400)), [world[0]])
        #expect(world.debt(1, to: 0) == 400)
        try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [world[1]])
        let record = world.chain.record(Settlement.self, at: world.stream(provider: 0, consumer: 1))!
        #expect(world.debt(1, to: 0) == 0, "the overclaiming settlement is undone")
        #expect(record.units == 0 && record.pending == false && record.deposit == 0)
        #expect(world.balance(1) == consumer + deposit, "the consumer wins the provider's deposit")
        #expect(world.totalHoldings == holdings)
        // The provider can still settle what it really served.
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 5, units: 300)), [world[0]])
        #expect(world.debt(1, to: 0) == 300)
    }

    /// Found in review: the consumer picks receipt numbers, so an acknowledgement of receipt 2^64−1 for 1
    /// unit must not "prove" every later settlement wrong. Only the same number counts.
    @Test func anAcknowledgementUnderAnotherNumberProvesNothing() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        let early = world.acknowledgement(provider: 0, consumer: 1, sequence: .max, units: 1)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 3, units: 1000)), [world[0]])
        let consumer = world.balance(1)
        try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: early), [world[1]])
        #expect(world.debt(1, to: 0) == 1000, "the settlement stands")
        #expect(world.balance(1) == consumer - ChainParameters.settlementDepositDefault, "the challenge proved nothing and cost the consumer its deposit")
    }

    /// Found in review: what the consumer paid beyond its line went to the provider at once, who could
    /// spend it in the window; it is held until the window closes, so an undone booking is paid back in full.
    @Test func anUndoneBookingIsPaidBackInFullEvenIfTheProviderSpentItsBalance() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 100)
        let ack = world.acknowledgement(provider: 0, consumer: 1, sequence: 4, units: 50)
        let consumer = world.balance(1)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 4, units: 1100)), [world[0]])
        #expect(world.balance(1) == consumer - 1000, "100 became debt, 1,000 was paid")
        // The provider empties its balance during the window.
        try world.chain.submit(TransferRule.type, TransferRule.body(to: world.id(2), amount: world.balance(0)), [world[0], world[2]])
        try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [world[1]])
        #expect(world.balance(1) == consumer + ChainParameters.settlementDepositDefault, "all 1,000 back, and the provider's deposit")
        #expect(world.debt(1, to: 0) == 0)
    }

    /// Found in review: the payer challenged in the last pulse of a period and ended the contract in the
    /// next block, taking back the price of a period the provider had served and could still prove.
    @Test func aContractDoesNotEndWhileAChallengeCanBeAnswered() throws {
        var world = CreditWorld()
        let contract = try StorageContractTests().create(&world)
        world.chain.pulseStep = contract.start + contract.periodPulses - 1 - world.chain.pulse
        try world.chain.submit(StorageRules.challenge, StorageRules.contractBody(contract.id), [world[0]])
        expectRejection(.duplicate) { try world.chain.submit(StorageRules.end, StorageRules.contractBody(contract.id), [world[0]]) }
        let challenged = world.chain.record(StorageContract.self, at: contract.id)!
        let (segment, path) = StorageContractTests().proof(for: challenged)
        try world.chain.submit(StorageRules.prove, StorageRules.proveBody(contract: contract.id, segment: segment, path: path), [world[1]])
        let provider = world.balance(1)
        try world.chain.submit(StorageRules.end, StorageRules.contractBody(contract.id), [world[0]])
        #expect(world.balance(1) >= provider + contract.pricePerPeriod, "the served, proven period is paid")
    }

    /// Found by the adversarial search: undoing an overclaim took debt that an IOU itemizes off the line,
    /// which wrote a line record no rule could read back.
    @Test func undoingAnOverclaimLeavesIOUDebtInPlace() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        let ack = world.acknowledgement(provider: 0, consumer: 1, sequence: 4, units: 300)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 4, units: 400)), [world[0]])
        // The provider pays 300 back over the line (cancelling free debt), then the consumer issues an IOU.
        try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(1), amount: 300, via: []), [world[0]])
        try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(0), amount: 200, memo: "m"), [world[1]])
        try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [world[1]])
        let line = try #require(world.line(0, 1))
        #expect(line.debt(of: world.id(1)) == 200 && line.itemized(of: world.id(1)) == 200)
    }

    /// Found by the adversarial search: a contract for 2^64−1 bytes made every node trap on its first
    /// challenge (the segment count overflowed).
    @Test func aContractTooLargeToIndexIsRefused() throws {
        var world = CreditWorld()
        let terms = StorageRules.Terms(provider: world.id(1), cid: "Qm", size: .max, root: .zero, periodPulses: 10, periods: 1, deposit: 0,
                                       pricePerGiBDay: 1)
        expectRejection(.tooLarge) { try world.chain.submit(StorageRules.create, terms.body, [world[0], world[1]]) }
        var contract = try StorageContractTests().create(&world)
        contract.size = .max
        #expect(contract.segments == UInt64.max / 1024 + 1)
    }

    @Test func aChallengeInTheLastPulseOfAPeriodCanStillBeAnswered() throws {
        var world = CreditWorld()
        let contract = try StorageContractTests().create(&world)
        // Wait for the last pulse of period 0, then challenge.
        let periodEnd = contract.start + contract.periodPulses - 1
        world.chain.pulseStep = periodEnd - world.chain.pulse
        try world.chain.submit(StorageRules.challenge, StorageRules.contractBody(contract.id), [world[0]])
        let challenged = world.chain.record(StorageContract.self, at: contract.id)!
        #expect(challenged.challengePeriod == 0 && challenged.challengeDeadline == periodEnd + contract.periodPulses)
        // A claim while the answer window is open does not forfeit anything.
        let provider = world.balance(1)
        try world.chain.submit(StorageRules.claim, StorageRules.contractBody(contract.id), [world[0]])
        #expect(world.chain.record(StorageContract.self, at: contract.id)!.settledPeriods == 0)
        // The provider answers in the next period, within the window.
        let (segment, path) = StorageContractTests().proof(for: challenged)
        try world.chain.submit(StorageRules.prove, StorageRules.proveBody(contract: contract.id, segment: segment, path: path), [world[1]])
        try world.chain.submit(StorageRules.claim, StorageRules.contractBody(contract.id), [world[1]])
        let after = world.chain.record(StorageContract.self, at: contract.id)!
        #expect(after.missed == 0 && after.settledPeriods == 1)
        #expect(world.balance(1) == provider + contract.pricePerPeriod)
    }
}
