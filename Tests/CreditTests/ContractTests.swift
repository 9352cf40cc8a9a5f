import Credit
import Ledger
import LedgerTestSupport
import Testing

@Suite struct StorageContractTests {
    static let content: [UInt8] = (0..<5_000).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 8)) }  // 5 segments, the last one short

    func create(_ world: inout CreditWorld, periods: UInt64 = 3, deposit: UInt64 = 3000) throws -> StorageContract {
        let nonce = world.chain.nonces[world.id(0), default: 0]
        let root = MerkleList.root(StorageContract.segmentLeaves(Self.content))
        let terms = StorageRules.Terms(provider: world.id(1), cid: "QmExample", size: UInt64(Self.content.count), root: root,
                                       periodPulses: 10, periods: periods, deposit: deposit, pricePerGiBDay: 1 << 40)
        try world.chain.submit(StorageRules.create, terms.body, [world[0], world[1]])
        return try #require(world.chain.record(StorageContract.self, at: StorageContract.stateKey(payer: world.id(0), provider: world.id(1), nonce: nonce)))
    }

    func proof(for contract: StorageContract) -> (segment: [UInt8], path: [Digest]) {
        let index = Int(contract.challengeIndex), leaves = StorageContract.segmentLeaves(Self.content)
        let segment = Array(Self.content[(index * 1024)..<min(index * 1024 + 1024, Self.content.count)])
        return (segment, MerkleList.path(index, leaves))
    }

    @Test func priceEscrowChallengeProveAndPay() throws {
        var world = CreditWorld()
        let before = (world.balance(0), world.balance(1), world.totalHoldings)
        var contract = try create(&world)
        #expect(contract.pricePerPeriod > 0 && contract.segments == 5)
        #expect(world.balance(0) == before.0 - contract.pricePerPeriod * 3 && world.balance(1) == before.1 - 3000)
        try world.chain.submit(StorageRules.challenge, StorageRules.contractBody(contract.id), [world[0]])
        contract = world.chain.record(StorageContract.self, at: contract.id)!
        expectRejection(.duplicate) { try world.chain.submit(StorageRules.challenge, StorageRules.contractBody(contract.id), [world[0]]) }
        var (segment, path) = proof(for: contract)
        segment[0] ^= 1
        expectRejection(StorageRules.badProof) {
            try world.chain.submit(StorageRules.prove, StorageRules.proveBody(contract: contract.id, segment: segment, path: path), [world[1]])
        }
        (segment, path) = proof(for: contract)
        try world.chain.submit(StorageRules.prove, StorageRules.proveBody(contract: contract.id, segment: segment, path: path), [world[1]])
        // A period later, the provider claims the first period's pay.
        world.chain.pulseStep = 10
        let provider = world.balance(1)
        try world.chain.submit(StorageRules.claim, StorageRules.contractBody(contract.id), [world[1]])
        #expect(world.balance(1) == provider + contract.pricePerPeriod)
        #expect(world.totalHoldings == before.2, "escrow and deposit are held, never created or lost")
    }

    @Test func anUnansweredChallengeCostsTheProvider() throws {
        var world = CreditWorld()
        let contract = try create(&world)
        try world.chain.submit(StorageRules.challenge, StorageRules.contractBody(contract.id), [world[0]])
        world.chain.pulseStep = 11  // past the answer window of one period
        let payer = world.balance(0)
        try world.chain.submit(StorageRules.claim, StorageRules.contractBody(contract.id), [world[0]])
        let after = world.chain.record(StorageContract.self, at: contract.id)!
        #expect(after.missed == 1 && after.deposit == 2000)
        #expect(world.balance(0) == payer + contract.pricePerPeriod + 1000, "price back plus a third of the deposit")
    }

    @Test func endingEarlyRefundsAndTheProviderForfeitsItsDeposit() throws {
        var world = CreditWorld()
        let contract = try create(&world)
        let payer = world.balance(0)
        try world.chain.submit(StorageRules.end, StorageRules.contractBody(contract.id), [world[1]])
        #expect(world.balance(0) == payer + contract.escrow + contract.deposit)
        #expect(world.chain.record(StorageContract.self, at: contract.id)?.ended == true)
        expectRejection(ForwardRules.unknown) { try world.chain.submit(StorageRules.claim, StorageRules.contractBody(contract.id), [world[1]]) }
    }

    @Test func theSegmentTreeFollowsRFC6962() {
        var generator = SeededGenerator(seed: 6962)
        for count in [1, 2, 3, 5, 8, 13] {
            let leaves = (0..<count).map { _ in SHA256.hash(generator.bytes(8)) }
            let root = MerkleList.root(leaves)
            for index in 0..<count {
                #expect(MerkleList.verify(leaf: leaves[index], index: index, count: count, path: MerkleList.path(index, leaves), root: root))
                #expect(!MerkleList.verify(leaf: leaves[index], index: (index + 1) % count, count: count, path: MerkleList.path(index, leaves), root: root) || count == 1)
            }
        }
    }
}

@Suite struct ForwardContractTests {
    @Test func relayedBytesAreBilledAtTheContractPrice() throws {
        var world = CreditWorld()
        let nonce = world.chain.nonces[world.id(0), default: 0]
        try world.chain.submit(ForwardRules.create, ForwardRules.createBody(relay: world.id(1), pricePPM: 250_000), [world[0], world[1]])
        let contract = ForwardContract.stateKey(client: world.id(0), relay: world.id(1), nonce: nonce)
        try world.grant(1, to: 0, limit: 1 << 30)
        try world.chain.submit(SettlementRules.settle, SettlementRules.body(
            world.receipt(provider: 1, consumer: 0, service: .forward, contract: contract, sequence: 1, units: 1001)), [world[1]])
        #expect(world.debt(0, to: 1) == 251, "⌈1001 × 0.25⌉")
        try world.chain.submit(ForwardRules.end, ForwardRules.endBody(contract: contract), [world[0]])
        expectRejection(ForwardRules.unknown) { try world.chain.submit(ForwardRules.end, ForwardRules.endBody(contract: contract), [world[1]]) }
        #expect(ForwardContract(id: contract, client: world.id(0), relay: world.id(1), pricePPM: .max, createdHeight: 0).value(ofBytes: .max) == nil)
    }
}
