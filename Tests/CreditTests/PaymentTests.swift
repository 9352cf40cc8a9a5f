import Credit
import Ledger
import LedgerTestSupport
import Testing

@Suite struct PaymentTests {
    /// 0 → 1 → 2 → 3: each receiver trusts the sender; 1 and 2 let payments ripple.
    func chainOfTrust(ripple: Bool = true, limit: UInt64 = 1000) throws -> CreditWorld {
        var world = CreditWorld()
        try world.grant(1, to: 0, limit: limit, ripple: ripple)
        try world.grant(2, to: 1, limit: limit, ripple: ripple)
        try world.grant(3, to: 2, limit: limit)
        // Intermediaries also mark the outgoing side of their lines.
        try world.grant(1, to: 2, limit: 1, ripple: ripple)
        try world.grant(2, to: 3, limit: 1, ripple: ripple)
        return world
    }

    func graph(_ world: CreditWorld) -> CreditGraph { CreditGraph(lines: world.chain.records(CreditLine.self), pulse: world.chain.pulse) }

    @Test func findsAPathAndSettlesItAtomically() throws {
        var world = try chainOfTrust()
        let path = try #require(graph(world).path(from: world.id(0), to: world.id(3), amount: 600))
        #expect(path == [world.id(0), world.id(1), world.id(2), world.id(3)])
        let positions = (1...2).map { world.netPosition(world.id($0)) }
        try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(3), amount: 600, via: Array(path.dropFirst().dropLast())), [world[0]])
        #expect(world.debt(0, to: 1) == 600 && world.debt(1, to: 2) == 600 && world.debt(2, to: 3) == 600)
        #expect((1...2).map { world.netPosition(world.id($0)) } == positions, "intermediaries' net positions do not change")
        #expect(world.netPosition(world.id(0)) == -600 && world.netPosition(world.id(3)) == 600)
        // The lines now have 400 left: a second payment of 600 finds no path, and a forced one fails whole.
        #expect(graph(world).path(from: world.id(0), to: world.id(3), amount: 600) == nil)
        let root = world.chain.state.rootHash
        expectRejection(PaymentRule.noPath) {
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(3), amount: 600, via: [world.id(1), world.id(2)]), [world[0]])
        }
        #expect(world.chain.state.rootHash == root)
    }

    @Test func intermediariesMustAllowRippling() throws {
        var world = try chainOfTrust(ripple: false)
        #expect(graph(world).path(from: world.id(0), to: world.id(3), amount: 10) == nil)
        expectRejection(PaymentRule.noPath) {
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(3), amount: 10, via: [world.id(1), world.id(2)]), [world[0]])
        }
        // A direct payment needs no intermediary's consent.
        try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(1), amount: 10, via: []), [world[0]])
        #expect(world.debt(0, to: 1) == 10)
    }

    @Test func paymentsCancelDebtBeforeCreatingIt() throws {
        var world = CreditWorld()
        try world.grant(1, to: 0, limit: 100)
        try world.grant(0, to: 1, limit: 100)
        try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(1), amount: 70, via: []), [world[0]])
        #expect(world.debt(0, to: 1) == 70)
        try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(0), amount: 100, via: []), [world[1]])
        #expect(world.debt(0, to: 1) == 0 && world.debt(1, to: 0) == 30)
    }

    @Test func malformedPathsAreRejected() throws {
        var world = try chainOfTrust()
        expectRejection(.selfReference) {
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(3), amount: 1, via: [world.id(1), world.id(1)]), [world[0]])
        }
        expectRejection(PaymentRule.noPath) {
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(3), amount: 1, via: [world.id(4)]), [world[0]])
        }
        expectRejection(.amountNotPositive) {
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(1), amount: 0, via: []), [world[0]])
        }
    }
}

@Suite struct NettingTests {
    @Test func findsAndClearsATriangle() throws {
        var world = CreditWorld()
        // 0 owes 1 owes 2 owes 0, by direct payments on credit.
        for (debtor, creditor, amount) in [(0, 1, 500 as UInt64), (1, 2, 300), (2, 0, 400)] {
            try world.grant(creditor, to: debtor, limit: 1000)
            try world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(creditor), amount: amount, via: []), [world[debtor]])
        }
        let positions = (0...2).map { world.netPosition(world.id($0)) }
        let cycles = Netting.findCycles(Netting.debts(of: world.chain.records(CreditLine.self)))
        #expect(cycles.count == 1 && cycles[0].amount == 300 && cycles[0].relieved == 900)
        try world.chain.submit(Netting.type, Netting.body(cycles), [world[4]])
        #expect(world.debt(0, to: 1) == 200 && world.debt(1, to: 2) == 0 && world.debt(2, to: 0) == 100)
        #expect((0...2).map { world.netPosition(world.id($0)) } == positions)
        // Nothing is left to clear, and clearing it again fails.
        #expect(Netting.findCycles(Netting.debts(of: world.chain.records(CreditLine.self))).isEmpty)
        expectRejection(Netting.notACycle) { try world.chain.submit(Netting.type, Netting.body(cycles), [world[4]]) }
    }

    @Test func aClaimedReliefMustMatch() throws {
        var world = CreditWorld()
        for (debtor, creditor) in [(0, 1), (1, 0)] {
            try world.grant(creditor, to: debtor, limit: 1000)
        }
        try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(1), amount: 50, memo: ""), [world[0]])
        // Debt held as an IOU is not free debt: netting cannot touch it.
        let cycle = Netting.Cycle(nodes: [world.id(0), world.id(1)], amount: 10)
        expectRejection(Netting.notACycle) { try world.chain.submit(Netting.type, Netting.body([cycle]), [world[2]]) }
        let wrong: CBOR = .map(["cycles": .array([]), "relieved": .unsigned(0)])
        expectRejection(Netting.notACycle) { try world.chain.submit(Netting.type, wrong, [world[2]]) }
    }

    @Test func largeRandomGraphsEndAcyclic() {
        var generator = SeededGenerator(seed: 99)
        let nodes = (0..<200).map { _ in ID(bytes: generator.bytes(20))! }
        let debts = (0..<2_000).map { _ in
            Netting.Debt(debtor: nodes.randomElement(using: &generator)!, creditor: nodes.randomElement(using: &generator)!,
                         amount: UInt64.random(in: 1...1000, using: &generator))
        }
        let cycles = Netting.findCycles(debts, lengthMax: 200)
        var remaining: [String: UInt64] = [:]
        var net: [ID: Int128] = [:], netAfter: [ID: Int128] = [:]
        for debt in debts where debt.debtor != debt.creditor {
            remaining["\(debt.debtor)>\(debt.creditor)", default: 0] += debt.amount
            net[debt.debtor, default: 0] -= Int128(debt.amount)
            net[debt.creditor, default: 0] += Int128(debt.amount)
        }
        for cycle in cycles {
            for (a, b) in zip(cycle.nodes, cycle.nodes.dropFirst() + [cycle.nodes[0]]) {
                remaining["\(a)>\(b)"]! -= cycle.amount
            }
        }
        for (key, amount) in remaining where amount > 0 {
            let parts = key.split(separator: ">").map(String.init)
            let debtor = nodes.first { $0.text == parts[0] }!, creditor = nodes.first { $0.text == parts[1] }!
            netAfter[debtor, default: 0] -= Int128(amount)
            netAfter[creditor, default: 0] += Int128(amount)
        }
        #expect(!cycles.isEmpty)
        #expect(net.filter { $0.value != 0 } == netAfter.filter { $0.value != 0 }, "net positions unchanged")
        // What is left has no cycle.
        let leftover = remaining.filter { $0.value > 0 }.map { key, amount in
            let parts = key.split(separator: ">").map(String.init)
            return Netting.Debt(debtor: nodes.first { $0.text == parts[0] }!, creditor: nodes.first { $0.text == parts[1] }!, amount: amount)
        }
        #expect(Netting.findCycles(leftover, lengthMax: 200).isEmpty)
    }
}
