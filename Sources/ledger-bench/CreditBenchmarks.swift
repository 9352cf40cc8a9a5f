import Credit
import Foundation
import Ledger

/// Issue 3's figures: receipts verified and settled, path finding latency, netting at scale.
extension Benchmarks {
    func credit(_ report: inout Report, _ generator: inout SeededGenerator) throws {
        try receipts(&report)
        paths(&report, &generator)
        netting(&report, &generator)
    }

    /// Consumers' receipts settled by their providers through the state machine, in blocks of 1,000:
    /// each needs the transaction's signature and the receipt's verified, the line updated, the
    /// deposit locked, the tree updated.
    private func receipts(_ report: inout Report) throws {
        let pairs = quick ? 500 : 2_500
        let providers = (0..<pairs).map { key(100_000 + $0) }, consumers = (0..<pairs).map { key(200_000 + $0) }
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let genesis = Genesis.development(chainID: "bench", timeMillis: 0, bookkeeper: key(0).publicKey,
                                          balances: (providers + consumers).map { ($0.publicKey.id, 1 << 40) })
        var (state, block) = try genesis.build()
        var header = block.header
        var lastCommit: CommitCertificate? = nil
        func run(_ transactions: [SignedTransaction]) {
            for start in stride(from: 0, to: transactions.count, by: blockSize) {
                let batch = Array(transactions[start..<min(start + blockSize, transactions.count)])
                guard let proposal = Chain.propose(batch, after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: (header.pulse + 1) * 1000,
                                                   proposer: key(0).publicKey.id)
                else { fatalError("nothing applied") }
                precondition(proposal.rejected.isEmpty, "bench transactions must apply: \(proposal.rejected.first!.1)")
                state = proposal.applied.state
                header = proposal.block.header
                lastCommit = proposal.block.certified(by: [key(0)]).commit
            }
        }
        // Each consumer is granted credit by its provider first (not measured).
        run(zip(providers, consumers).map { provider, consumer in
            SignedTransaction(transaction: Transaction(chain: "bench", type: LineRules.grant, signers: [provider.publicKey], nonce: 0, expiry: .max,
                                                       body: LineRules.Terms(to: consumer.publicKey.id, limit: 1 << 40, expiry: 1 << 40).body), keys: [provider])
        })
        let rounds = 2
        var settlements: [SignedTransaction] = []
        for round in 0..<rounds {
            for (provider, consumer) in zip(providers, consumers) {
                let receipt = SignedReceipt(receipt: UsageReceipt(chain: "bench", provider: provider.publicKey.id, consumer: consumer.publicKey.id,
                                                                  service: .bandwidth, sequence: UInt64(round + 1), units: UInt64(round + 1) << 20), key: consumer)
                settlements.append(SignedTransaction(transaction: Transaction(chain: "bench", type: SettlementRules.settle, signers: [provider.publicKey],
                                                                              nonce: UInt64(round + 1), expiry: .max, body: SettlementRules.body(receipt)), keys: [provider]))
            }
        }
        let receiptsOnly = settlements.compactMap { tx -> SignedReceipt? in
            guard case .map(let body) = tx.transaction.body, let value = body["receipt"] else { return nil }
            return try? SignedReceipt(cbor: value)
        }
        var valid = 0
        let verifySeconds = seconds { for receipt in receiptsOnly where (try? receipt.verify()) != nil { valid += 1 } }
        precondition(valid == receiptsOnly.count)
        report.add("Receipts verified, one core", "\(formatted(Double(valid) / verifySeconds))/s", "signature check alone",
                   key: "receipts_verified_per_second", Double(valid) / verifySeconds)
        // What metering does per receipt while serving (specs/credit.md §Metering in practice): the consumer
        // signs it, the provider verifies it and signs its acknowledgement, the consumer verifies that —
        // against the bare signatures alone (two BIP-340 signs and two verifies of a 32-byte digest).
        let provider = providers[0], consumer = consumers[0], trips = quick ? 2_000 : 10_000
        var acknowledged = 0
        let tripSeconds = seconds {
            for number in 1...trips {
                let receipt = UsageReceipt(chain: "bench", provider: provider.publicKey.id, consumer: consumer.publicKey.id, service: .bandwidth,
                                           sequence: UInt64(number), units: UInt64(number) << 20)
                let signed = SignedReceipt(receipt: receipt, key: consumer)
                guard (try? signed.verify()) != nil else { continue }
                let ack = ReceiptAcknowledgement(receipt: signed.receipt, providerKey: provider)
                if (try? ack.verify()) != nil { acknowledged += 1 }
            }
        }
        precondition(acknowledged == trips)
        let digest = SHA256.hash(Array("bench".utf8))
        var bare = 0
        let bareSeconds = seconds {
            for _ in 1...trips {
                let first = consumer.sign(digest), second = provider.sign(digest)
                if consumer.publicKey.verify(first, for: digest) && provider.publicKey.verify(second, for: digest) { bare += 1 }
            }
        }
        precondition(bare == trips)
        let tripRate = Double(trips) / tripSeconds, bareRate = Double(trips) / bareSeconds
        report.add("Receipts signed and verified, one core", "\(formatted(tripRate))/s",
                   "a round trip each: consumer signs, provider verifies and acknowledges, consumer verifies; at 1 MiB a receipt that is \(formatted(tripRate))MiB/s of service",
                   key: "receipt_round_trips_per_second", tripRate)
        report.add("  ratio to the bare signatures (2 signs, 2 verifies)", formatted(tripRate / bareRate, decimals: 2), "bare: \(formatted(bareRate))/s",
                   key: "receipt_round_trips_to_bare_signatures", tripRate / bareRate)
        let settleSeconds = seconds { run(settlements) }
        report.add("Receipts settled on the ledger, one core", "\(formatted(Double(settlements.count) / settleSeconds))/s",
                   "\(settlements.count) settlements in blocks of \(blockSize): transaction and receipt signatures, debt on the line, deposit, state tree",
                   key: "receipts_settled_per_second", Double(settlements.count) / settleSeconds)
    }

    /// Shortest paths with room for an amount on a random graph of 10,000 nodes and 50,000 lines.
    private func paths(_ report: inout Report, _ generator: inout SeededGenerator) {
        let nodeCount = quick ? 2_000 : 10_000, lineCount = quick ? 10_000 : 50_000
        let ids = (0..<nodeCount).map { _ in ID(bytes: generator.bytes(20))! }
        var seen = Set<ID>(), lines: [CreditLine] = []
        while lines.count < lineCount {
            let a = ids[Int.random(in: 0..<nodeCount, using: &generator)], b = ids[Int.random(in: 0..<nodeCount, using: &generator)]
            guard a != b else { continue }
            var line = CreditLine(between: a, and: b, height: 0)
            guard seen.insert(line.stateKey).inserted else { continue }
            line.lowTerms = CreditTerms(base: UInt64.random(in: 1...1_000, using: &generator) << 20, expiry: .max, since: 0, allowRipple: true)
            line.highTerms = CreditTerms(base: UInt64.random(in: 1...1_000, using: &generator) << 20, expiry: .max, since: 0, allowRipple: true)
            lines.append(line)
        }
        var graph: CreditGraph? = nil
        let buildSeconds = seconds { graph = CreditGraph(lines: lines, pulse: 0) }
        var latencies: [Double] = [], found = 0
        let queries = quick ? 200 : 1_000
        for _ in 0..<queries {
            let from = ids[Int.random(in: 0..<nodeCount, using: &generator)], to = ids[Int.random(in: 0..<nodeCount, using: &generator)]
            let amount = UInt64.random(in: 1...500, using: &generator) << 20
            var path: [ID]? = nil
            latencies.append(seconds { path = graph!.path(from: from, to: to, amount: amount) })
            if path != nil { found += 1 }
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2] * 1000, p99 = latencies[latencies.count * 99 / 100] * 1000
        report.add("Path finding, \(formatted(Double(nodeCount))) nodes and \(formatted(Double(lineCount))) lines: p50", "\(formatted(p50, decimals: 2)) ms",
                   "\(queries) random queries for 1–500 MiB, \(found) found; graph built in \(formatted(buildSeconds * 1000)) ms",
                   key: "path_p50_ms", p50)
        report.add("  p99", "\(formatted(p99, decimals: 2)) ms", "", key: "path_p99_ms", p99)
    }

    /// Clearing cycles out of 100,000 random debts.
    private func netting(_ report: inout Report, _ generator: inout SeededGenerator) {
        let debtCount = quick ? 20_000 : 100_000, nodeCount = quick ? 4_000 : 20_000
        let ids = (0..<nodeCount).map { _ in ID(bytes: generator.bytes(20))! }
        var debts: [Netting.Debt] = []
        while debts.count < debtCount {
            let a = Int.random(in: 0..<nodeCount, using: &generator), b = Int.random(in: 0..<nodeCount, using: &generator)
            if a != b { debts.append(Netting.Debt(debtor: ids[a], creditor: ids[b], amount: UInt64.random(in: 1...1_000_000, using: &generator))) }
        }
        let total = debts.reduce(UInt64(0)) { $0 + $1.amount }
        var cycles: [Netting.Cycle] = []
        var batches = 0
        let elapsed = seconds {
            cycles = Netting.findCycles(debts)
            batches = Netting.batches(cycles).count
        }
        let relieved = cycles.reduce(UInt64(0)) { $0 + ($1.relieved ?? 0) }
        report.add("Netting \(formatted(Double(debtCount))) debts among \(formatted(Double(nodeCount))) nodes", "\(formatted(elapsed * 1000)) ms",
                   "\(formatted(Double(cycles.count))) cycles (length ≤ \(Netting.cycleLengthMax)) cleared, packed into \(batches) credit.net transactions", key: "netting_ms", elapsed * 1000)
        report.add("  share of debt relieved", "\(formatted(100 * Double(relieved) / Double(total), decimals: 1)) %",
                   "\(formatted(Double(relieved))) of \(formatted(Double(total))) bytes of debt", key: "netting_relieved_share", Double(relieved) / Double(total))
    }
}
