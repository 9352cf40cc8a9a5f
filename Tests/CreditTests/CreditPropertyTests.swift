import Credit
import Ledger
import LedgerTestSupport
import PropertyBased
import Testing

/// Invariants of the credit rules over random sequences of operations (swift-property-based generates
/// and shrinks them; a failure prints the seed that replays it).
@Suite struct CreditPropertyTests {
    /// (operation, party a, party b, amount)
    typealias Operation = (Int, Int, Int, UInt64)

    /// Applies one operation; rejections are fine (they must change nothing).
    static func perform(_ operation: Operation, _ world: inout CreditWorld, _ sequences: inout [String: (UInt64, UInt64)]) {
        let (kind, a, pick, amount) = operation
        let b = (a + 1 + pick % 3) % 4  // another party than a
        let chain = world.chain
        switch kind {
        case 0: try? world.grant(a, to: b, limit: amount, ripple: amount % 2 == 0)
        case 1: try? world.change(a, to: b, limit: amount)
        case 2: try? world.revoke(a, from: b)
        case 3: try? world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(b), amount: amount, memo: ""), [world[a]])
        case 4:
            if let iou = world.chain.records(IOU.self).first(where: { $0.borrower == world.id(a) }) {
                try? world.chain.submit(IOURules.repay, IOURules.repayBody(iou: iou.id, amount: min(amount, iou.outstanding)), [world[a]])
            }
        case 5: try? world.chain.submit(PaymentRule.type, PaymentRule.body(to: world.id(b), amount: amount, via: []), [world[a]])
        case 6:
            let key = "\(a)>\(b)"
            let (sequence, units) = sequences[key, default: (0, 0)]
            let (next, overflow) = units.addingReportingOverflow(amount)
            guard !overflow else { return }
            if (try? world.chain.submit(SettlementRules.settle, SettlementRules.body(world.receipt(provider: a, consumer: b, sequence: sequence + 1, units: next)), [world[a]])) != nil {
                sequences[key] = (sequence + 1, next)
            }
        case 7:
            let cycles = Netting.findCycles(Netting.debts(of: world.chain.records(CreditLine.self)), cyclesMax: Netting.cyclesMax)
            if !cycles.isEmpty { try? world.chain.submit(Netting.type, Netting.body(cycles), [world[a]]) }
        default: world.chain.pulseStep = 1 + amount % 200
        }
        if kind < 8 && world.chain.header == chain.header {
            // Rejected: nothing may have changed.
            #expect(world.chain.state.rootHash == chain.state.rootHash)
        }
    }

    /// Balances plus deposits never change; every debt that grew stays within its line; revoking
    /// never cancels debt; netting and payments never change anybody's net position except payer and
    /// payee.
    @Test func totalsLimitsAndRevocation() async {
        let operations = zip(Gen.int(in: 0...8), Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.uint64(in: 0...5_000)).array(of: 1...30)
        await propertyCheck(count: 120, input: operations) { operations in
            var world = CreditWorld(accounts: 4, balance: 1 << 24, publicityWindow: 50)
            let total = world.totalHoldings
            var sequences: [String: (UInt64, UInt64)] = [:]
            for operation in operations {
                let before = Dictionary(uniqueKeysWithValues: world.chain.records(CreditLine.self).map { ($0.stateKey, $0) })
                let positions = (0..<4).map { world.netPosition(world.id($0)) }
                Self.perform(operation, &world, &sequences)
                #expect(world.totalHoldings == total, "units created or lost by \(operation)")
                for line in world.chain.records(CreditLine.self) {
                    for debtor in [line.low, line.high] where line.debt(of: debtor) > (before[line.stateKey]?.debt(of: debtor) ?? 0) {
                        // Debt grew: it must fit the line as it stood when it grew.
                        #expect(line.debt(of: debtor) <= line.terms(grantedBy: line.other(debtor)).limit(atPulse: world.chain.pulse),
                                "debt beyond its line after \(operation)")
                    }
                    if operation.0 == 2, let old = before[line.stateKey] {
                        #expect(line.debt(of: line.low) == old.debt(of: line.low) && line.debt(of: line.high) == old.debt(of: line.high))
                    }
                }
                if operation.0 == 7 || operation.0 == 0 || operation.0 == 1 || operation.0 == 2 {
                    
                    #expect((0..<4).map { world.netPosition(world.id($0)) } == positions, "\(operation) moved a net position")
                }
            }
        }
    }

    /// Netting never changes a net position, on any debt graph, and leaves no cycle behind.
    @Test func nettingKeepsNetPositions() async {
        let debts = zip(Gen.int(in: 0...5), Gen.int(in: 0...5), Gen.uint64(in: 1...1_000)).array(of: 1...40)
        await propertyCheck(count: 100, input: debts) { edges in
            let nodes = (0..<6).map { testKey($0 + 10).publicKey.id }
            let debts = edges.filter { $0.0 != $0.1 }.map { Netting.Debt(debtor: nodes[$0.0], creditor: nodes[$0.1], amount: $0.2) }
            func positions(_ debts: [Netting.Debt]) -> [ID: Int128] {
                var net: [ID: Int128] = [:]
                for debt in debts {
                    net[debt.debtor, default: 0] -= Int128(debt.amount)
                    net[debt.creditor, default: 0] += Int128(debt.amount)
                }
                return net.filter { $0.value != 0 }
            }
            let cycles = Netting.findCycles(debts)
            var remaining = debts
            for cycle in cycles {
                for (a, b) in zip(cycle.nodes, cycle.nodes.dropFirst() + [cycle.nodes[0]]) {
                    var left = cycle.amount
                    for index in remaining.indices where left > 0 && remaining[index].debtor == a && remaining[index].creditor == b {
                        let take = min(left, remaining[index].amount)
                        remaining[index].amount -= take
                        left -= take
                    }
                    #expect(left == 0, "a cycle took more than the debts on its edge")
                }
            }
            #expect(positions(remaining) == positions(debts))
            #expect(Netting.findCycles(remaining.filter { $0.amount > 0 }).isEmpty)
        }
    }

    /// Settling the same receipt twice counts once; receipts replayed or out of order are rejected,
    /// and the total settled equals the newest receipt accepted.
    @Test func settlementIsIdempotentAndOrdered() async {
        let orders = Gen.int(in: 1...12).array(of: 1...20)
        await propertyCheck(count: 60, input: orders) { order in
            var world = CreditWorld(accounts: 2, balance: 1 << 30)
            try? world.grant(0, to: 1, limit: 1 << 40)
            var newest: UInt64 = 0
            for sequence in order.map(UInt64.init) {
                let receipt = world.receipt(provider: 0, consumer: 1, sequence: sequence, units: sequence * 100)
                let root = world.chain.state.rootHash
                do {
                    try world.chain.submit(SettlementRules.settle, SettlementRules.body(receipt), [world[0]])
                    #expect(sequence > newest, "accepted a receipt that is not newer")
                    newest = sequence
                } catch {
                    #expect(sequence <= newest, "rejected a newer receipt: \(error)")
                    #expect(world.chain.state.rootHash == root)
                }
            }
            #expect(world.debt(1, to: 0) == newest * 100)
        }
    }

    /// Extreme amounts (near 2^64) never crash a node, never wrap, and never create units.
    @Test func extremeAmountsStayInRange() async {
        let operations = zip(Gen.int(in: 0...8), Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.uint64(in: (UInt64.max - 3)...UInt64.max)).array(of: 1...30)
        await propertyCheck(count: 60, input: operations) { operations in
            var world = CreditWorld(accounts: 4, balance: UInt64.max / 8)
            let total = world.totalHoldings
            var sequences: [String: (UInt64, UInt64)] = [:]
            for operation in operations { Self.perform(operation, &world, &sequences) }
            #expect(world.totalHoldings == total)
            for line in world.chain.records(CreditLine.self) {
                #expect(line.itemized(of: line.low) <= line.debt(of: line.low) && line.itemized(of: line.high) <= line.debt(of: line.high))
            }
        }
    }
}
