import Credit
import Foundation
import LedgerTestSupport
import Testing
@testable import Ledger
@testable import Storage


/// A store in a fresh temporary folder, initialized with a development genesis that funds key 1.
struct StoreFixture {
    let folder: URL
    let path: String
    var store: LedgerStore
    let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
    let bookkeeper = testKey(0)
    var state: LedgerState
    var header: BlockHeader
    var nonce: UInt64 = 0

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("ledger.sqlite").path
        let genesis = Genesis.development(chainID: "store-test", timeMillis: 0, bookkeeper: bookkeeper.publicKey,
                                          balances: [(testKey(1).publicKey.id, 1 << 40)])
        let built = try genesis.build()
        store = try LedgerStore(path: path, create: true)
        try store.initialize(genesis: built.block, state: built.state)
        state = built.state
        header = built.block.header
    }

    var lastCommit: CommitCertificate?

    /// Appends a block holding `transactions`, or `count` transfers from key 1 to fresh accounts.
    @discardableResult
    mutating func appendBlock(transfers count: Int = 0, transactions extra: [SignedTransaction] = []) throws -> Block {
        let payer = testKey(1)
        var transactions = extra
        for index in 0..<count {
            let payee = testKey(1000 + Int(nonce) * 7 + index)
            let tx = Transaction(chain: "store-test", type: TransferRule.type, signers: [payer.publicKey, payee.publicKey],
                                 nonce: nonce + UInt64(index), expiry: .max, body: TransferRule.body(to: payee.publicKey.id, amount: 10))
            transactions.append(SignedTransaction(transaction: tx, keys: [payer, payee]))
        }
        let proposal = Chain.propose(transactions, after: header, lastCommit: lastCommit, state: state, machine: machine,
                                     timeMillis: (header.pulse + 1) * 1000, proposer: bookkeeper.publicKey.id)!
        precondition(proposal.rejected.isEmpty, "\(proposal.rejected)")
        let block = proposal.block.certified(by: [bookkeeper])
        try store.append(block, applied: proposal.applied)
        state = proposal.applied.state
        header = block.header
        lastCommit = block.commit
        nonce += UInt64(count)
        return block
    }
}

@Suite struct LedgerStoreTests {
    @Test func blocksAndStateSurviveReopening() throws {
        var fixture = try StoreFixture()
        var blocks: [Block] = []
        for _ in 0..<5 { blocks.append(try fixture.appendBlock(transfers: 3)) }
        let reopened = try LedgerStore(path: fixture.path, create: false)
        #expect(try reopened.latestHeight() == 5)
        for block in blocks {
            #expect(try reopened.block(at: block.height) == block)
            for (position, tx) in block.transactions.enumerated() {
                let location = try reopened.locate(transaction: tx.id)
                #expect(location?.height == block.height && location?.position == position)
            }
        }
        let state = try reopened.loadLatestState()
        #expect(state.rootHash == fixture.state.rootHash)
        #expect(state.rootHash == blocks.last!.header.stateRoot)
    }

    /// `status` reads the count from the meta table (no scan of the transactions); a store written before
    /// the counter existed counts once when opened, and the count goes on from there.
    @Test func theTransactionCountIsKeptWithEachBlockAndRecountedOnceForAnOlderStore() throws {
        var fixture = try StoreFixture()
        #expect(try fixture.store.transactionCount() == 0)
        try fixture.appendBlock(transfers: 3)
        try fixture.appendBlock(transfers: 4)
        #expect(try fixture.store.transactionCount() == 7)
        let older = try SQLiteDatabase(path: fixture.path)
        try older.execute("DELETE FROM meta WHERE key = 'transaction_count'")
        var reopened = fixture
        reopened.store = try LedgerStore(path: fixture.path, create: false)
        #expect(try reopened.store.transactionCount() == 7)
        try reopened.appendBlock(transfers: 2)
        #expect(try reopened.store.transactionCount() == 9)
        #expect(try LedgerStore(path: fixture.path, create: false).transactionCount() == 9)
    }

    @Test func proofsAtEveryHeightMatchThatHeightsRoot() throws {
        var fixture = try StoreFixture()
        let payer = testKey(1).publicKey.id
        var roots: [Digest] = [fixture.header.stateRoot]
        for _ in 0..<4 { roots.append(try fixture.appendBlock(transfers: 2).header.stateRoot) }
        for (height, root) in roots.enumerated() {
            let proof = try #require(try fixture.store.proof(payer, atHeight: UInt64(height)))
            guard case .present(let valueHash) = try proof.verify(root: root) else { Issue.record("payer absent at \(height)"); continue }
            let value = try #require(try fixture.store.value(payer, atHeight: UInt64(height)))
            #expect(SHA256.hash(CBOREncoder.encode(value)) == valueHash)
            // The balance at each height is the one recorded then (versioned state).
            #expect(try Account(cbor: value).balance == (1 << 40) - UInt64(height) * 20)
        }
        let stranger = testKey(999_999).publicKey.id
        #expect(try fixture.store.proof(stranger, atHeight: 4)!.verify(root: roots[4]) == .absent)
    }

    @Test func appendOutOfOrderChangesNothing() throws {
        var fixture = try StoreFixture()
        let block = try fixture.appendBlock(transfers: 1)
        let applied = Chain.Applied(state: fixture.state, createdNodes: [], changes: [:])
        #expect(throws: StoreError.self) { try fixture.store.append(block, applied: applied) }
        #expect(try fixture.store.latestHeight() == 1)
    }

    @Test func indexesFollowTheLatestState() throws {
        var fixture = try StoreFixture()
        let granter = testKey(1), grantee = testKey(2)
        let grant = Transaction(chain: "store-test", type: CreditRules.grant, signers: [granter.publicKey], nonce: 0, expiry: .max,
                                body: CreditRules.lineBody(to: grantee.publicKey.id, limit: 5, expiry: 1 << 40))
        try fixture.appendBlock(transactions: [SignedTransaction(transaction: grant, keys: [granter])])
        #expect(try fixture.store.keys(kind: CreditLine.kind, involving: granter.publicKey.id).count == 1)
        #expect(try fixture.store.keys(kind: CreditLine.kind, involving: grantee.publicKey.id).count == 1)
        #expect(try fixture.store.keys(kind: CreditLine.kind, involving: testKey(3).publicKey.id).isEmpty)
        #expect(try fixture.store.transactions(involving: grantee.publicKey.id, limit: 10).count == 1)
        let revoke = Transaction(chain: "store-test", type: CreditRules.revoke, signers: [granter.publicKey], nonce: 1, expiry: .max,
                                 body: CreditRules.revokeBody(to: grantee.publicKey.id))
        try fixture.appendBlock(transactions: [SignedTransaction(transaction: revoke, keys: [granter])])
        #expect(try fixture.store.keys(kind: CreditLine.kind, involving: granter.publicKey.id).isEmpty)
    }
}

@Suite struct DamagedStoreTests {
    @Test func aForeignDatabaseIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).sqlite").path
        let other = try SQLiteDatabase(path: path)
        try other.execute("CREATE TABLE notes(text TEXT); INSERT INTO notes VALUES ('hello')")
        #expect { try LedgerStore(path: path, create: false) } throws: { error in
            guard case StoreError.foreign = error else { return false }
            return "\(error)".contains("not a ledgerd database")
        }
    }

    @Test func aFileOfRandomBytesIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("garbage-\(UUID().uuidString).sqlite").path
        var generator = SystemRandomNumberGenerator()
        _ = FileManager.default.createFile(atPath: path, contents: Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        #expect(throws: StoreError.self) { try LedgerStore(path: path, create: false) }
    }

    @Test func aTruncatedDatabaseIsRefusedNotServed() throws {
        var fixture = try StoreFixture()
        for _ in 0..<30 { try fixture.appendBlock(transfers: 20) }
        // Checkpoint the WAL so the main file holds everything, then cut a copy in half.
        let database = try SQLiteDatabase(path: fixture.path)
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let copy = fixture.folder.appendingPathComponent("truncated.sqlite").path
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        _ = FileManager.default.createFile(atPath: copy, contents: data.prefix(data.count / 2))
        #expect(throws: StoreError.self) {
            let store = try LedgerStore(path: copy, create: false)
            // If it opens at all, reading the chain must fail rather than return wrong data.
            _ = try store.loadLatestState()
            for height in 0...30 { _ = try store.block(at: UInt64(height)) }
        }
    }

    @Test func aDamagedBlockBodyIsDetectedOnRead() throws {
        var fixture = try StoreFixture()
        try fixture.appendBlock(transfers: 2)
        let database = try SQLiteDatabase(path: fixture.path)
        // Swap block 1's body for block 0's: a valid frame, but not the block the index names.
        try database.execute("UPDATE blocks SET body = (SELECT body FROM blocks WHERE height = 0) WHERE height = 1")
        #expect { try fixture.store.block(at: 1) } throws: { "\($0)".contains("does not match its recorded hash") }
        try database.execute("UPDATE blocks SET body = x'28b52ffd0058' WHERE height = 1")
        #expect(throws: StoreError.self) { try fixture.store.block(at: 1) }
    }

    @Test func compressionRoundTripsAndRejectsBadFrames() throws {
        let data = Array(repeating: Array("ledger ".utf8), count: 1000).flatMap { $0 }
        let compressed = Compression.compress(data)
        #expect(compressed.count < data.count / 10)
        #expect(try Compression.decompress(compressed, sizeMax: 1 << 20) == data)
        #expect(throws: Compression.Failure.self) { try Compression.decompress(Array(compressed.prefix(compressed.count / 2)), sizeMax: 1 << 20) }
        #expect(throws: Compression.Failure.self) { try Compression.decompress(compressed, sizeMax: 100) }
        #expect(throws: Compression.Failure.self) { try Compression.decompress([1, 2, 3], sizeMax: 100) }
    }
}
