import Credit
import Ledger

/// An organization with a founder (key 1), members, and shorthands.
public struct OrgWorld {
    public var chain: TestChain
    public let orgKey = testKey(50)
    public var org: ID { orgKey.publicKey.id }

    public init(contract: ConsensusContract? = nil, policy: CBOR? = nil, members: [Int] = [2, 3]) throws {
        chain = TestChain(balances: (1...6).map { (testKey($0), 1 << 30) })
        try chain.submit(OrganizationRules.create, OrganizationRules.createBody(name: "Open Video", description: "", contract: contract, policy: policy),
                         [testKey(1), orgKey])
        for member in members {
            try chain.submit(OrganizationRules.join, OrganizationRules.organizationBody(org), [testKey(member)])
            try chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: testKey(member).publicKey.id), [testKey(1)])
        }
    }

    public var governance: Governance { chain.record(Governance.self, at: Governance.stateKey(org))! }
    public func tokens(_ n: Int) -> UInt64 { chain.record(TokenBalance.self, at: TokenBalance.stateKey(organization: org, holder: testKey(n).publicKey.id))?.balance ?? 0 }
    public func balance(_ n: Int) -> UInt64 { chain.balance(testKey(n)) }

    public mutating func propose(_ kind: Proposal.Kind, _ payload: CBOR, by proposer: Int = 1) throws {
        try chain.submit(EconomyRules.propose, EconomyRules.proposeBody(organization: org, kind: kind, payload: payload, duration: 100), [testKey(proposer)])
    }

    public mutating func vote(_ sequence: UInt64, _ voter: Int, yes: Bool = true) throws {
        try chain.submit(EconomyRules.vote, EconomyRules.voteBody(organization: org, proposal: sequence, yes: yes), [testKey(voter)])
    }

    /// Issues 900 tokens to key 2 and 100 to key 3 by passed reward proposals, then passes a policy of
    /// token voting with these thresholds: the set-up every token-voting test starts from.
    public mutating func switchToTokenVoting(quorumPPM: UInt64, thresholdPPM: UInt64) throws {
        let first = governance.proposalCount + 1
        try propose(.reward, EconomyRules.rewardPayload(recipient: testKey(2).publicKey.id, amount: 900, reason: "r", proof: "p"))
        try vote(first, 1)
        try vote(first, 2)
        try propose(.reward, EconomyRules.rewardPayload(recipient: testKey(3).publicKey.id, amount: 100, reason: "r", proof: "p"))
        try vote(first + 1, 1)
        try vote(first + 1, 3)
        try propose(.policy, Governance.policy(approvals: 1, voting: .token, quorumPPM: quorumPPM, thresholdPPM: thresholdPPM, remainder: testKey(1).publicKey.id))
        try vote(first + 2, 2)
        try vote(first + 2, 3)
    }

    public mutating func income(_ amount: UInt64, from payer: Int = 6, reference: String = "ad-1") throws {
        try chain.submit(EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: amount, reference: reference), [testKey(payer)])
    }
}

