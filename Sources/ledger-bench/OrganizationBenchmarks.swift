import Credit
import Foundation
import Ledger
import Storage

/// Issue 4's figures: one income event split among 100,000 token holders; an audit of 10,000 events.
extension Benchmarks {
    func organizations(_ report: inout Report, _ generator: inout SeededGenerator) throws {
        try bigDistribution(&report, &generator)
        try audit(&report)
    }

    /// An organization whose tokens are spread over many holders (its state written directly, not by
    /// 100,000 transactions), then one `org.income` through `Chain.propose` and into SQLite.
    private func bigDistribution(_ report: inout Report, _ generator: inout SeededGenerator) throws {
        let holders = quick ? 10_000 : 100_000
        let payer = key(1), founder = key(2), orgKey = key(3)
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let genesis = Genesis.development(chainID: "bench", timeMillis: 0, bookkeeper: key(0).publicKey, balances: [(payer.publicKey.id, 1 << 50), (founder.publicKey.id, 1)])
        var (state, block) = try genesis.build()
        let org = orgKey.publicKey.id
        var changes: [ID: CBOR?] = [:]
        changes[Organization.stateKey(org)] = Organization(id: org, name: "Big", description: "", founder: founder.publicKey.id, createdHeight: 0).cbor
        changes[Membership.stateKey(organization: org, person: founder.publicKey.id)] = Membership(organization: org, person: founder.publicKey.id, role: .supervisor, sinceHeight: 0).cbor
        var governance = Governance(organization: org, remainder: founder.publicKey.id)
        governance.tokenSupply = 0
        for _ in 0..<holders {
            let holder = ID(bytes: generator.bytes(20))!, balance = UInt64.random(in: 1...1_000_000, using: &generator)
            governance.tokenSupply += balance
            changes[TokenBalance.stateKey(organization: org, holder: holder)] = TokenBalance(organization: org, holder: holder, balance: balance).cbor
        }
        changes[Governance.stateKey(org)] = governance.cbor
        changes[ConsensusContract.stateKey(org, version: 1)] = ConsensusContract(organization: org, version: 1, splits: [.init(.role(.supervisor), ppm: 100_000)],
                                                                                proRataPPM: 900_000, adoptedHeight: 0).cbor
        var created: [TreeNode] = []
        state.commit(changes, height: 0, created: &created)
        // The genesis block's root now differs; a synthetic genesis header over this state stands in for it.
        block.header.stateRoot = state.rootHash
        let income = SignedTransaction(transaction: Transaction(chain: "bench", type: EconomyRules.income, signers: [payer.publicKey], nonce: 0, expiry: .max,
                                                                body: EconomyRules.incomeBody(organization: org, amount: 1 << 40, reference: "ad")), keys: [payer])
        var proposal: (block: Block, accepted: [SignedTransaction], rejected: [(SignedTransaction, Rejection)], applied: Chain.Applied)? = nil
        let elapsed = seconds {
            proposal = Chain.propose([income], after: block.header, lastCommit: nil, state: state, machine: machine, timeMillis: 1000, proposer: key(0).publicKey.id)
        }
        guard let proposal, proposal.rejected.isEmpty else { fatalError("the income did not apply") }
        let sealed = proposal.block.certified(by: [key(0)])
        let event = proposal.applied.state.record(IncomeEvent.self, at: IncomeEvent.stateKey(org, sequence: 1))!
        report.add("One income event split among \(formatted(Double(holders))) token holders", "\(formatted(elapsed * 1000)) ms",
                   "verify, split, \(formatted(Double(proposal.applied.changes.count))) state changes (balances and dividend totals), state tree; \(event.payoutCount) payouts",
                   key: "income_100k_ms", elapsed * 1000)
        let folder = NSTemporaryDirectory() + "ledger-bench-org-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try LedgerStore(path: folder + "/ledger.sqlite", create: true)
        try store.initialize(genesis: block, state: state)
        let appendSeconds = try seconds { try store.append(sealed, applied: proposal.applied) }
        report.add("  the block that records it", "\(formatted(Double(sealed.encoded.count))) bytes",
                   "one transaction: payouts are state changes, committed by the state root and the event's payout root; stored to SQLite in \(formatted(appendSeconds * 1000)) ms",
                   key: "income_100k_block_bytes", sealed.encoded.count)
    }

    /// 10,000 income events in blocks of 1,000, then the auditor's work: replay with full verification
    /// and recompute every split.
    private func audit(_ report: inout Report) throws {
        let events = quick ? 2_000 : 10_000
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let payers = (0..<10).map { key(500 + $0) }, founder = key(2), orgKey = key(3)
        let genesis = Genesis.development(chainID: "bench", timeMillis: 0, bookkeeper: key(0).publicKey,
                                          balances: (payers + [founder]).map { ($0.publicKey.id, 1 << 50) })
        var (state, block) = try genesis.build()
        var header = block.header
        var lastCommit: CommitCertificate? = nil
        var blocks: [Block] = []
        var nonces: [ID: UInt64] = [:]
        func apply(_ transactions: [SignedTransaction]) {
            let proposal = Chain.propose(transactions, after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: (header.pulse + 1) * 1000, proposer: key(0).publicKey.id)!
            precondition(proposal.rejected.isEmpty, "\(proposal.rejected.first!.1)")
            let sealed = proposal.block.certified(by: [key(0)])
            blocks.append(sealed)
            state = proposal.applied.state
            header = proposal.block.header
            lastCommit = sealed.commit
        }
        func tx(_ signer: SecretKey, _ type: String, _ body: CBOR, _ extra: [SecretKey] = []) -> SignedTransaction {
            let nonce = nonces[signer.publicKey.id, default: 0]
            nonces[signer.publicKey.id] = nonce + 1
            return SignedTransaction(transaction: Transaction(chain: "bench", type: type, signers: ([signer] + extra).map(\.publicKey), nonce: nonce, expiry: .max, body: body),
                                     keys: [signer] + extra)
        }
        let org = orgKey.publicKey.id
        let contract = ConsensusContract(organization: org, version: 1, splits: [.init(.role(.supervisor), ppm: 300_000)], proRataPPM: 500_000, valueChainPPM: 100_000, adoptedHeight: 0)
        apply([tx(founder, OrganizationRules.create, OrganizationRules.createBody(name: "Audited", description: "", contract: contract), [orgKey])])
        apply(payers.map { tx($0, OrganizationRules.join, OrganizationRules.organizationBody(org)) })
        apply(payers.map { tx(founder, OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: $0.publicKey.id)) })
        let start = blocks.count
        for batch in stride(from: 0, to: events, by: blockSize) {
            apply((batch..<min(batch + blockSize, events)).map { index in
                tx(payers[index % payers.count], EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: UInt64(1_000 + index), reference: "ad-\(index % 7)"))
            })
        }
        // The auditor starts from genesis with nothing but the blocks.
        var (replayed, _) = try genesis.build()
        var previous = block.header
        var findings: [IncomeAudit.Finding] = []
        let elapsed = try seconds {
            for block in blocks {
                let applied = try Chain.apply(block, after: previous, state: replayed, machine: machine)
                findings += IncomeAudit.check(block, before: replayed, after: applied.state, organization: org)
                replayed = applied.state
                previous = block.header
            }
        }
        precondition(findings.count == events && findings.allSatisfy { $0.mismatch == nil }, "the audit must verify every event")
        report.add("Audit of \(formatted(Double(events))) income events", "\(formatted(elapsed * 1000)) ms",
                   "replay of \(blocks.count) blocks from genesis with every signature and state root checked, each split recomputed (\(blocks.count - start) blocks of income)",
                   key: "audit_10k_ms", elapsed * 1000)
    }
}
