import Credit
import Ledger
import LedgerTestSupport
import PropertyBased
import Testing

/// Issue 4's invariants over generated contracts, holders and votes.
@Suite struct OrganizationPropertyTests {
    static let people = (0..<8).map { testKey(100 + $0).publicKey.id }.sorted()

    static func contract(_ shares: [UInt64], proRata: UInt64, chain: UInt64) -> ConsensusContract {
        // Scale the parts so they never exceed the whole.
        let raw = shares + [proRata, chain]
        let total = max(raw.reduce(0, +), 1)
        let scaled = raw.map { $0 * ConsensusContract.million / max(total, ConsensusContract.million) }
        var splits: [ConsensusContract.Split] = []
        for (index, ppm) in scaled.dropLast(2).enumerated() {
            splits.append(.init(index % 2 == 0 ? .member(people[index % people.count]) : .role([Role.supervisor, .member, .guest][index % 3]), ppm: ppm))
        }
        return ConsensusContract(organization: .zero, version: 1, splits: splits, proRataPPM: scaled[scaled.count - 2], valueChainPPM: scaled[scaled.count - 1], adoptedHeight: 0)
    }

    /// Payouts and remainder add up to the income exactly, and pro-rata shares follow the rounding rule.
    @Test func payoutsSumToIncomeAndFollowTheRoundingRule() async {
        let input = zip(Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...400_000).array(of: 0...6), Gen.uint64(in: 0...600_000),
                        Gen.uint64(in: 0...300_000), Gen.uint64(in: 0...(1 << 40)).array(of: 0...8))
        await propertyCheck(count: 300, input: input) { income, shares, proRata, chainShare, balances in
            let contract = Self.contract(shares, proRata: proRata, chain: chainShare)
            #expect(contract.isValid)
            let holders = zip(Self.people, balances).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
            let roles: [Role: [ID]] = [.supervisor: [Self.people[0]], .member: Array(Self.people[1...3]), .guest: []]
            let contributors = [(Self.people[4], UInt64(3)), (Self.people[5], UInt64(7))]
            let result = Distribution.compute(.init(income: income, contract: contract, roles: roles, holders: holders, contributors: contributors))
            let paid = result.payouts.reduce(UInt128(0)) { $0 + UInt128($1.amount) }
            #expect(paid + UInt128(result.remainder) == UInt128(income), "units created or lost")
            // Pro rata alone: each holder gets ⌊part × balance / supply⌋.
            let alone = ConsensusContract(organization: .zero, version: 1, splits: [], proRataPPM: contract.proRataPPM, adoptedHeight: 0)
            let onlyProRata = Distribution.compute(.init(income: income, contract: alone, roles: [:], holders: holders, contributors: []))
            let part = UInt128(income) * UInt128(alone.proRataPPM) / 1_000_000
            let supply = holders.reduce(UInt128(0)) { $0 + UInt128($1.1) }
            for (holder, balance) in holders {
                let expected = supply == 0 ? 0 : part * UInt128(balance) / supply
                let got = onlyProRata.payouts.first { $0.recipient == holder }?.amount ?? 0
                #expect(UInt128(got) == expected)
            }
        }
    }

    /// A contract change never alters an earlier distribution; each member's vote counts once; nobody
    /// outside the organization can change it.
    @Test func historyVotesAndOutsiders() async {
        // (operation, actor, amount): 0 income, 1 propose a new contract, 2 vote yes, 3 vote no, 4 outsider acts
        let input = zip(Gen.int(in: 0...4), Gen.int(in: 0...3), Gen.uint64(in: 1...1_000_000)).array(of: 1...25)
        await propertyCheck(count: 60, input: input) { operations in
            var world = try OrgWorld(members: [2, 3, 4])
            var events: [IncomeEvent] = []
            var voters: [UInt64: Set<Int>] = [:]
            for (operation, actor, amount) in operations {
                let member = actor + 1  // 1…4 are the founder and members
                switch operation {
                case 0:
                    if (try? world.income(amount)) != nil {
                        events.append(world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: world.governance.incomeCount))!)
                    }
                case 1:
                    let rules = ConsensusContract(organization: world.org, version: 0, splits: [.init(.role(.member), ppm: amount % 1_000_001)], adoptedHeight: 0).rules
                    _ = try? world.propose(.contract, rules, by: member)
                case 2, 3:
                    let sequence = world.governance.proposalCount
                    guard sequence > 0 else { continue }
                    if (try? world.vote(sequence, member, yes: operation == 2)) != nil {
                        #expect(voters[sequence, default: []].insert(member).inserted, "member \(member) counted twice")
                    }
                default:
                    let outsider = testKey(5)
                    let root = world.chain.state.rootHash
                    let attempts: [(String, CBOR)] = [
                        (EconomyRules.propose, EconomyRules.proposeBody(organization: world.org, kind: .reward, payload: EconomyRules.rewardPayload(recipient: outsider.publicKey.id, amount: amount, reason: "r", proof: "p"), duration: 10)),
                        (EconomyRules.vote, EconomyRules.voteBody(organization: world.org, proposal: max(world.governance.proposalCount, 1), yes: true)),
                        (EconomyRules.contribute, EconomyRules.contributeBody(organization: world.org, reference: "x", contributor: outsider.publicKey.id, role: "r", weight: 1)),
                        (OrganizationRules.role, OrganizationRules.memberBody(organization: world.org, person: outsider.publicKey.id, role: .supervisor)),
                        (OrganizationRules.remove, OrganizationRules.memberBody(organization: world.org, person: testKey(2).publicKey.id)),
                        (EconomyRules.claimOperation, EconomyRules.organizationBody(world.org)),
                    ]
                    for (type, body) in attempts {
                        #expect((try? world.chain.submit(type, body, [outsider])) == nil, "an outsider's \(type) was accepted")
                    }
                    #expect(world.chain.state.rootHash == root)
                }
                for event in events {
                    #expect(world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: event.sequence)) == event, "an earlier distribution changed")
                }
            }
            for (sequence, set) in voters {
                let proposal = world.chain.record(Proposal.self, at: Proposal.stateKey(world.org, sequence: sequence))!
                #expect(proposal.yes + proposal.no == UInt64(set.count))
            }
        }
    }
}
