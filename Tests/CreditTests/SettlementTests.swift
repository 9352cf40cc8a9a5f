import Credit
import Ledger
import LedgerTestSupport
import Testing

@Suite struct ReceiptTests {
    @Test func receiptsVerifyOnlyWithTheConsumersKey() throws {
        let world = CreditWorld()
        var signed = world.receipt(provider: 0, consumer: 1, sequence: 1, units: 500)
        try signed.verify()
        let decoded = try SignedReceipt(encoded: signed.encoded)
        #expect(decoded == signed)
        signed.receipt.units = 1
        #expect(throws: SignedReceipt.Invalid.badSignature) { try signed.verify() }
        let wrongKey = SignedReceipt(receipt: world.receipt(provider: 0, consumer: 1, sequence: 1, units: 5).receipt, key: world[2])
        #expect(throws: SignedReceipt.Invalid.notTheConsumersKey) { try wrongKey.verify() }
    }

    @Test func meterAsksToSettleThenStops() {
        let meter = ServiceMeter(payThresholdPPM: 800_000, disconnectThresholdPPM: 1_000_000)
        #expect(meter.decide(limit: 1000, owed: 0, unsettled: 500) == .serve)
        #expect(meter.decide(limit: 1000, owed: 300, unsettled: 550) == .settle)
        #expect(meter.decide(limit: 1000, owed: 300, unsettled: 701) == .stop)
        #expect(meter.decide(limit: 0, owed: 0, unsettled: 1) == .stop)
        #expect(meter.decide(limit: .max, owed: .max, unsettled: 1) == .stop)
    }
}

@Suite struct SettlementTests {
    @Test func usageBecomesDebtWithinTheLineAndPaymentBeyondIt() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        let deposit = ChainParameters.settlementDepositDefault
        let before = (world.balance(0), world.balance(1))
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 1500)), [world[0]])
        #expect(world.debt(1, to: 0) == 1000, "debt never beyond the line")
        #expect(world.balance(1) == before.1 - 500, "the rest is paid from the consumer's balance")
        #expect(world.balance(0) == before.0 - deposit, "the provider's deposit is held, and the payment until the window closes")
        let stream = world.receipt(provider: 0, consumer: 1, sequence: 1, units: 0).receipt.streamKey
        #expect(world.chain.record(Settlement.self, at: stream)?.pending == true)
        #expect(world.chain.record(Settlement.self, at: stream)?.held == 500)
    }

    @Test func aReceiptCountsOnceAndStaleReceiptsAreRejected() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        let second = world.receipt(provider: 0, consumer: 1, sequence: 2, units: 300)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(second), [world[0]])
        let root = world.chain.state.rootHash
        expectRejection(SettlementRules.staleReceipt) { try world.chain.submit(SettlementRules.settle, SettlementRules.body(second), [world[0]]) }
        expectRejection(SettlementRules.staleReceipt) {
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 100)), [world[0]])
        }
        expectRejection(SettlementRules.staleReceipt) {
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 3, units: 200)), [world[0]])
        }
        expectRejection(SettlementRules.staleReceipt) {  // a higher sequence with no more units books nothing
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 3, units: 300)), [world[0]])
        }
        #expect(world.chain.state.rootHash == root)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 3, units: 450)), [world[0]])
        #expect(world.debt(1, to: 0) == 450)
    }

    @Test func aStaleSettlementLosesItsDepositToAChallengerWithANewerReceipt() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        let deposit = ChainParameters.settlementDepositDefault
        // The consumer settles an old, low receipt; the provider holds a newer one.
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 100)), [world[1]])
        expectRejection(SettlementRules.inWindow) {
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 5, units: 900)), [world[0]])
        }
        let providerBefore = world.balance(0)
        try world.chain.submit(SettlementRules.dispute, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 5, units: 900)), [world[0]])
        #expect(world.debt(1, to: 0) == 900, "the newer receipt is settled")
        #expect(world.balance(0) == providerBefore + deposit - deposit, "wins the consumer's deposit, posts its own")
        let stream = world.receipt(provider: 0, consumer: 1, sequence: 0, units: 0).receipt.streamKey
        #expect(world.chain.record(Settlement.self, at: stream)?.submitter == world.id(0))
    }

    @Test func aWrongChallengeLosesTheChallengersDeposit() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1_000_000)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 4, units: 400)), [world[0]])
        let before = (world.balance(0), world.balance(1))
        // The provider acknowledged 100 units at receipt 2: older than the settled receipt 4, so no contradiction.
        let ack = world.acknowledgement(provider: 0, consumer: 1, sequence: 2, units: 100)
        try world.chain.submit(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [world[1]])
        let deposit = ChainParameters.settlementDepositDefault
        #expect(world.balance(1) == before.1 - deposit && world.balance(0) == before.0 + deposit)
        #expect(world.debt(1, to: 0) == 400, "the settlement stands")
    }

    @Test func finalizeReturnsTheDepositAfterTheWindow() throws {
        var world = CreditWorld(publicityWindow: 5)
        try world.grant(0, to: 1, limit: 1_000_000)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 10)), [world[0]])
        let stream = world.receipt(provider: 0, consumer: 1, sequence: 0, units: 0).receipt.streamKey
        expectRejection(SettlementRules.inWindow) { try world.chain.submit(SettlementRules.finalize, SettlementRules.finalizeBody(stream: stream), [world[2]]) }
        let before = world.balance(0)
        world.chain.pulseStep = 10
        try world.chain.submit(SettlementRules.finalize, SettlementRules.finalizeBody(stream: stream), [world[2]])
        #expect(world.balance(0) == before + ChainParameters.settlementDepositDefault)
        #expect(world.chain.record(Settlement.self, at: stream)?.pending == false)
        expectRejection(SettlementRules.notPending) {
            try world.chain.submit(SettlementRules.dispute, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 2, units: 20)), [world[1]])
        }
    }

    @Test func forgedOrMisaddressedReceiptsAreRejected() {
        var world = CreditWorld()
        var forged = world.receipt(provider: 0, consumer: 1, sequence: 1, units: 10)
        forged.receipt.units = 10_000
        expectRejection(SettlementRules.badReceipt) { try world.chain.submit(SettlementRules.settle, SettlementRules.body(forged), [world[0]]) }
        expectRejection(.wrongSigners) {
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, sequence: 1, units: 10)), [world[2]])
        }
        var otherChain = world.receipt(provider: 0, consumer: 1, sequence: 1, units: 10).receipt
        otherChain.chain = "elsewhere"
        expectRejection(.wrongChain) {
            try world.chain.submit(SettlementRules.settle, SettlementRules.body(SignedReceipt(receipt: otherChain, key: world[1])), [world[0]])
        }
    }

    @Test func storageAndCPUConvertByTheCoefficients() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1 << 40)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, service: .cpu, sequence: 1, units: 3)), [world[0]])
        #expect(world.debt(1, to: 0) == 3 << 20, "a CPU second is worth 1 MiB of bandwidth by default")
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: 0, consumer: 1, service: .storage, sequence: 1, units: 4096)), [world[0]])
        #expect(world.debt(1, to: 0) == (3 << 20) + 4096)
    }
}
