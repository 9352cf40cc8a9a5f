import Credit
import LedgerTestSupport
import Testing
@testable import Ledger

@Suite struct OrganizationEconomyTests {
    @Test func structuralRewardsPassByVoteAndAreAnnounced() throws {
        var world = try OrgWorld()
        // A reward without reason or proof is refused before any vote.
        #expect(throws: Rejection.self) {
            try world.propose(.reward, EconomyRules.rewardPayload(recipient: testKey(2).publicKey.id, amount: 100, reason: "", proof: ""))
        }
        try world.propose(.reward, EconomyRules.rewardPayload(recipient: testKey(2).publicKey.id, amount: 100, reason: "wrote the player", proof: "commit 4e1f"))
        try world.vote(1, 1)
        #expect(world.tokens(2) == 0, "one of three members is not a majority")
        #expect(throws: Rejection.self) { try world.vote(1, 1) }  // a member counts once
        try world.vote(1, 2)
        #expect(world.tokens(2) == 100 && world.governance.tokenSupply == 100)
        #expect(world.chain.record(Proposal.self, at: Proposal.stateKey(world.org, sequence: 1))?.status == .executed)
        #expect(throws: Rejection.self) { try world.vote(1, 3) }  // executed: closed
        // Outsiders can neither propose nor vote.
        #expect(throws: Rejection.self) { try world.propose(.reward, EconomyRules.rewardPayload(recipient: testKey(5).publicKey.id, amount: 1, reason: "r", proof: "p"), by: 5) }
    }

    @Test func incomeIsSplitByTheContractInForceAndAddsUpExactly() throws {
        let contract = ConsensusContract(organization: .zero, version: 1, splits: [
            .init(.member(testKey(4).publicKey.id), ppm: 100_000),   // 10 % to a named person (an investor)
            .init(.role(.supervisor), ppm: 300_000),                 // 30 % to the supervisors
        ], proRataPPM: 400_000, valueChainPPM: 150_000, adoptedHeight: 0)
        var world = try OrgWorld(contract: contract)
        // Tokens for 2 and 3 (pro rata), a contribution chain for ad-1.
        for (n, amount) in [(2, 600 as UInt64), (3, 400)] {
            try world.propose(.reward, EconomyRules.rewardPayload(recipient: testKey(n).publicKey.id, amount: amount, reason: "founding work", proof: "minutes"))
            try world.vote(world.governance.proposalCount, 1)
            try world.vote(world.governance.proposalCount, 2)
        }
        for (n, weight) in [(2, 1 as UInt64), (5, 2)] {
            try world.chain.submit(EconomyRules.contribute, EconomyRules.contributeBody(organization: world.org, reference: "ad-1", contributor: testKey(n).publicKey.id,
                                                                                         role: "collector", weight: weight), [testKey(1)])
        }
        let before = (1...6).map(world.balance)
        try world.income(1_000_003)
        let after = (1...6).map(world.balance)
        let gained = zip(before, after).map { Int64($1) - Int64($0) }
        #expect(gained[5] == -1_000_003, "the payer pays")
        #expect(gained[0...4].reduce(0, +) == 1_000_003, "not one unit created or lost")
        // 10 %: person 4 gets ⌊100,000.3⌋; 30 % to the one supervisor (1); 40 % pro rata 600:400; 15 % value chain 1:2.
        #expect(gained[3] == 100_000)
        #expect(gained[2] == 160_000)                       // 3: 40 % × 0.4
        #expect(gained[1] == 240_000 + 50_000)              // 2: 40 % × 0.6 + 15 % × 1/3
        #expect(gained[4] == 100_000)                       // 5: 15 % × 2/3
        let event = try #require(world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: 1)))
        #expect(event.amount == 1_000_003 && event.contractVersion == 1 && event.payoutCount == 5)
        #expect(gained[0] == 300_000 + Int64(event.remainder), "the founder is supervisor and remainder account")
        #expect(world.chain.record(DividendTotal.self, at: DividendTotal.stateKey(organization: world.org, person: testKey(2).publicKey.id))?.total == 290_000)
    }

    @Test func aContractChangeAppliesOnlyToLaterIncome() throws {
        var world = try OrgWorld()
        try world.income(1000)
        let first = world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: 1))!
        let newContract = ConsensusContract(organization: world.org, version: 0, splits: [.init(.role(.member), ppm: 1_000_000)], adoptedHeight: 0)
        try world.propose(.contract, newContract.rules)
        try world.vote(1, 1)
        try world.vote(1, 3)
        #expect(world.governance.contractVersion == 2)
        try world.income(1000)
        let second = world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: 2))!
        #expect(second.contractVersion == 2 && first.contractVersion == 1)
        #expect(world.chain.record(IncomeEvent.self, at: IncomeEvent.stateKey(world.org, sequence: 1)) == first, "the earlier event is untouched")
        #expect(world.chain.record(ConsensusContract.self, at: ConsensusContract.stateKey(world.org, version: 1))?.splits.first?.target == .role(.supervisor))
    }

    @Test func kOfNApprovalIntroductionAndRemoval() throws {
        var world = try OrgWorld(members: [2])
        // Make 2 a supervisor by vote, then require two approvals.
        try world.propose(.role, EconomyRules.rolePayload(person: testKey(2).publicKey.id, role: .supervisor))
        try world.vote(1, 1)
        try world.vote(1, 2)
        try world.propose(.policy, Governance.policy(approvals: 2, voting: .member, quorumPPM: 500_000, thresholdPPM: 500_001, remainder: testKey(1).publicKey.id))
        try world.vote(2, 1)
        try world.vote(2, 2)
        #expect(world.governance.approvals == 2)
        try world.chain.submit(OrganizationRules.introduce, OrganizationRules.memberBody(organization: world.org, person: testKey(4).publicKey.id), [testKey(2), testKey(4)])
        let key = Membership.stateKey(organization: world.org, person: testKey(4).publicKey.id)
        #expect(world.chain.record(Membership.self, at: key)?.introducedBy == testKey(2).publicKey.id)
        try world.chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: world.org, person: testKey(4).publicKey.id), [testKey(1)])
        #expect(world.chain.record(Membership.self, at: key)?.role == .applicant, "one approval of two")
        #expect(throws: Rejection.self) {
            try world.chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: world.org, person: testKey(4).publicKey.id), [testKey(1)])
        }
        try world.chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: world.org, person: testKey(4).publicKey.id), [testKey(2)])
        #expect(world.chain.record(Membership.self, at: key)?.role == .member)
        try world.chain.submit(OrganizationRules.remove, OrganizationRules.memberBody(organization: world.org, person: testKey(4).publicKey.id), [testKey(1)])
        #expect(world.chain.record(Membership.self, at: key) == nil)
    }

    @Test func tokenVotingAndTokenTransfersNeedBothSignatures() throws {
        var world = try OrgWorld()
        try world.switchToTokenVoting(quorumPPM: 500_000, thresholdPPM: 500_001)
        #expect(world.governance.voting == .token)
        try world.propose(.reward, EconomyRules.rewardPayload(recipient: testKey(3).publicKey.id, amount: 1, reason: "r", proof: "p"), by: 3)
        try world.vote(4, 3)  // 100 of 1,000 tokens: not enough
        #expect(world.tokens(3) == 100)
        #expect(throws: Rejection.self) { try world.vote(4, 1) }  // the founder holds no tokens
        try world.vote(4, 2)  // 900 more
        #expect(world.tokens(3) == 101)
        #expect(throws: Rejection.self) {
            try world.chain.submit(EconomyRules.tokenTransfer, EconomyRules.tokenTransferBody(organization: world.org, to: testKey(3).publicKey.id, amount: 5), [testKey(2)])
        }
        // 2 voted on proposal 4: its tokens stay until the deadline.
        world.chain.pulseStep = 200
        try world.chain.submit(EconomyRules.tokenTransfer, EconomyRules.tokenTransferBody(organization: world.org, to: testKey(3).publicKey.id, amount: 5), [testKey(2), testKey(3)])
        #expect(world.tokens(2) == 895 && world.tokens(3) == 106)
    }

    @Test func operationRewardsFollowTheScheduleUpToTheCap() throws {
        let policy = Governance.policy(approvals: 1, voting: .member, quorumPPM: 500_000, thresholdPPM: 500_001, remainder: testKey(1).publicKey.id,
                                       operation: (perPulse: 10, cap: 95, end: 1_000_000, account: testKey(4).publicKey.id))
        var world = try OrgWorld(policy: policy, members: [])
        world.chain.pulseStep = 5
        try world.chain.submit(EconomyRules.claimOperation, EconomyRules.organizationBody(world.org), [testKey(1)])
        let first = world.tokens(4)
        #expect(first > 0 && first <= 95)
        world.chain.pulseStep = 100
        try world.chain.submit(EconomyRules.claimOperation, EconomyRules.organizationBody(world.org), [testKey(1)])
        #expect(world.tokens(4) == 95, "never above the cap")
        #expect(throws: Rejection.self) { try world.chain.submit(EconomyRules.claimOperation, EconomyRules.organizationBody(world.org), [testKey(1)]) }
    }
}
