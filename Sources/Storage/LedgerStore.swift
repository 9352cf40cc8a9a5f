import Foundation
import Ledger

/// The node's ledger on disk: an append-only block store with zstd-compressed bodies, the state tree
/// by version, and the indexes the API and explorer read. A block and the state after it are committed
/// in one SQLite transaction, so a crash at any moment leaves the last committed block intact.
///
/// All access goes through one connection behind a lock.
public final class LedgerStore: @unchecked Sendable {
    public static let fileName = "ledger.sqlite"

    public let path: String
    private let database: SQLiteDatabase
    private let lock = NSLock()

    /// Opens (or with `create`, creates) the database, refusing foreign or damaged files.
    public init(path: String, create: Bool) throws(StoreError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create { throw .notInitialized(path: path) }
        do {
            database = try SQLiteDatabase(path: path)
            let application = try Self.scalar(database, "PRAGMA application_id")
            let tables = try Self.scalar(database, "SELECT count(*) FROM sqlite_master")
            if application == 0 && tables == 0 {
                guard create else { throw StoreError.notInitialized(path: path) }
                try database.execute("PRAGMA journal_mode=WAL")
                try database.execute("PRAGMA application_id=\(Schema.applicationID); PRAGMA user_version=\(Schema.version)")
                try database.transaction { try database.execute(Schema.create) }
            } else if application != Schema.applicationID {
                throw StoreError.foreign(path: path)
            } else {
                let version = try Self.scalar(database, "PRAGMA user_version")
                guard version == Schema.version else { throw StoreError.damaged("schema version \(version), expected \(Schema.version)") }
                let check = try database.statement("PRAGMA quick_check")
                _ = try check.step()
                let verdict = check.text(0)
                database.resetStatements()
                guard verdict == "ok" else { throw StoreError.damaged("SQLite integrity check: \(verdict)") }
                try database.execute("PRAGMA journal_mode=WAL")
            }
            // A store written before the counter existed counts its transactions once, here.
            if try Self.scalar(database, "SELECT count(*) FROM meta WHERE key = 'transaction_count'") == 0 {
                try database.execute("INSERT OR IGNORE INTO meta(key, value) SELECT 'transaction_count', CAST(count(*) AS TEXT) FROM transactions")
            }
            // FULL: a committed block survives power loss too, not only a killed process. A 64 MiB page
            // cache keeps the state tree's randomly keyed node pages in memory between blocks.
            try database.execute("PRAGMA synchronous=FULL; PRAGMA cache_size=-65536")
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            // SQLITE_NOTADB (26) and SQLITE_CORRUPT (11): a file that is not, or no longer, a database.
            if error.code == 26 { throw .foreign(path: path) }
            throw .damaged(error.message)
        } catch {
            throw .damaged("\(error)")
        }
    }

    private static func scalar(_ database: SQLiteDatabase, _ sql: String) throws -> Int64 {
        let statement = try database.statement(sql)
        defer { database.resetStatements() }
        guard try statement.step() else { return 0 }
        return statement.integer(0)
    }

    private func locked<T>(_ body: () throws -> T) throws(StoreError) -> T {
        lock.lock()
        defer {
            database.resetStatements()
            lock.unlock()
        }
        do { return try body() } catch let error as StoreError { throw error } catch let error as SQLiteError {
            throw .sqlite(error)
        } catch { throw .damaged("\(error)") }
    }

    // MARK: - Meta

    public func meta(_ key: String) throws(StoreError) -> String? {
        try locked {
            let statement = try database.statement("SELECT value FROM meta WHERE key = ?").bind(.text(key))
            return try statement.step() ? statement.text(0) : nil
        }
    }

    // MARK: - Writing

    /// Writes block 0 and the genesis state into an empty store.
    public func initialize(genesis: Block, state: LedgerState) throws(StoreError) {
        let nodes = Self.allNodes(state.tree)
        let changes = state.values.mapValues { Optional($0) }
        try locked {
            try database.transaction {
                try database.statement("INSERT INTO meta(key, value) VALUES ('chain_id', ?)").bind(.text(genesis.header.chain)).run()
                try database.statement("INSERT INTO meta(key, value) VALUES ('genesis_hash', ?)").bind(.text(genesis.hash.hex)).run()
                try write(genesis, nodes: nodes, changes: changes)
            }
        }
    }

    /// Appends a validated block, the state changes it made and the explorer's payout rows for it, in
    /// one SQLite transaction: a crash leaves all of them or none.
    public func append(_ block: Block, applied: Chain.Applied, payouts: [Payout] = []) throws(StoreError) {
        try locked {
            try database.transaction {
                let latest = try latestHeightUnlocked()
                guard latest.map({ $0 + 1 }) == block.height else {
                    throw StoreError.damaged("block \(block.height) does not follow the stored height \(latest.map(String.init) ?? "none")")
                }
                try write(block, nodes: applied.createdNodes, changes: applied.changes)
                try writePayouts(payouts)
            }
        }
    }

    private func write(_ block: Block, nodes: [TreeNode], changes: [ID: CBOR?]) throws {
        let header = block.header
        let body = Compression.compress(block.encoded)
        try database.statement("INSERT INTO blocks(height, hash, header, body, tx_count, time) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(.integer(Int64(header.height)), .blob(header.hash.bytes), .blob(header.encoded), .blob(body),
                  .integer(Int64(block.transactions.count)), .integer(Int64(header.timeMillis))).run()
        let insertTransaction = try database.statement("INSERT INTO transactions(id, height, position, type, origin) VALUES (?, ?, ?, ?, ?)")
        let insertAccount = try database.statement("INSERT OR IGNORE INTO transaction_accounts(account, height, id) VALUES (?, ?, ?)")
        for (position, signed) in block.transactions.enumerated() {
            let id = signed.id.bytes
            try insertTransaction.bind(.blob(id), .integer(Int64(header.height)), .integer(Int64(position)),
                                       .text(signed.transaction.type), .blob(signed.transaction.origin.bytes)).run()
            for account in Self.accountsNamed(by: signed.transaction) {
                try insertAccount.bind(.blob(account.bytes), .integer(Int64(header.height)), .blob(id)).run()
            }
        }
        // The count `status` shows, kept with the block that changes it rather than counted per request.
        if !block.transactions.isEmpty {
            try database.statement("""
                INSERT INTO meta(key, value) VALUES ('transaction_count', ?)
                ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)
                """).bind(.text(String(block.transactions.count)), .integer(Int64(block.transactions.count))).run()
        }
        let insertNode = try database.statement("INSERT OR IGNORE INTO tree_nodes(hash, node) VALUES (?, ?)")
        for node in nodes { try insertNode.bind(.blob(node.hash.bytes), .blob(node.encoded)).run() }
        let insertValue = try database.statement("INSERT INTO state_values(key, height, value) VALUES (?, ?, ?)")
        let upsertIndex = try database.statement("INSERT OR REPLACE INTO state_index(key, kind, first, second) VALUES (?, ?, ?, ?)")
        let deleteIndex = try database.statement("DELETE FROM state_index WHERE key = ?")
        for (key, value) in changes {
            try insertValue.bind(.blob(key.bytes), .integer(Int64(header.height)), value.map { .blob(CBOREncoder.encode($0)) } ?? .null).run()
            if let value, let entry = StateIndex.entry(for: value) {
                try upsertIndex.bind(.blob(key.bytes), .text(entry.kind), entry.first.map { .blob($0.bytes) } ?? .null,
                                     entry.second.map { .blob($0.bytes) } ?? .null).run()
            } else if value == nil {
                try deleteIndex.bind(.blob(key.bytes)).run()
            }
        }
    }

    static func allNodes(_ tree: SparseMerkleTree) -> [TreeNode] {
        var nodes: [TreeNode] = []
        func walk(_ node: TreeNode?) {
            guard let node else { return }
            nodes.append(node)
            if !node.isLeaf { walk(node.left); walk(node.right) }
        }
        walk(tree.root)
        return nodes
    }

    /// Signers plus every 20-byte ID in the body: who a transaction concerns.
    static func accountsNamed(by transaction: Transaction) -> Set<ID> {
        var accounts = Set(transaction.signers.map(\.id))
        func scan(_ value: CBOR) {
            switch value {
            case .bytes(let bytes) where bytes.count == ID.byteCount: accounts.insert(ID(bytes: bytes)!)
            case .array(let items): items.forEach(scan)
            case .map(let entries): entries.values.forEach(scan)
            default: break
            }
        }
        scan(transaction.body)
        return accounts
    }

    /// An income event's payouts, as the node computed them for the explorer.
    public struct Payout: Sendable {
        public let organization: ID
        public let sequence: UInt64
        public let recipient: ID
        public let amount: UInt64
        public let height: UInt64

        public init(organization: ID, sequence: UInt64, recipient: ID, amount: UInt64, height: UInt64) {
            self.organization = organization
            self.sequence = sequence
            self.recipient = recipient
            self.amount = amount
            self.height = height
        }
    }

    private func writePayouts(_ payouts: [Payout]) throws {
        guard !payouts.isEmpty else { return }
        let insert = try database.statement("INSERT OR REPLACE INTO distributions(org, sequence, recipient, amount, height) VALUES (?, ?, ?, ?, ?)")
        for payout in payouts {
            try insert.bind(.blob(payout.organization.bytes), .integer(Int64(payout.sequence)), .blob(payout.recipient.bytes),
                            .integer(Int64(bitPattern: payout.amount)), .integer(Int64(payout.height))).run()
        }
    }

    /// The payouts of one organization's income events `from`…`to` (sequence numbers), by event then recipient.
    public func payouts(organization: ID, from: UInt64, to: UInt64) throws(StoreError) -> [Payout] {
        try locked {
            let statement = try database.statement(
                "SELECT sequence, recipient, amount, height FROM distributions WHERE org = ? AND sequence BETWEEN ? AND ? ORDER BY sequence, recipient")
                .bind(.blob(organization.bytes), .integer(Int64(clamping: from)), .integer(Int64(clamping: to)))
            var out: [Payout] = []
            while try statement.step() {
                out.append(Payout(organization: organization, sequence: UInt64(statement.integer(0)), recipient: ID(bytes: statement.blob(1))!,
                                  amount: UInt64(bitPattern: statement.integer(2)), height: UInt64(statement.integer(3))))
            }
            return out
        }
    }

    // MARK: - Reading blocks and transactions

    private func latestHeightUnlocked() throws -> UInt64? {
        let statement = try database.statement("SELECT max(height) FROM blocks")
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return UInt64(statement.integer(0))
    }

    public func latestHeight() throws(StoreError) -> UInt64? { try locked { try latestHeightUnlocked() } }

    public func header(at height: UInt64) throws(StoreError) -> BlockHeader? {
        try locked {
            let statement = try database.statement("SELECT header FROM blocks WHERE height = ?").bind(.integer(Int64(height)))
            guard try statement.step() else { return nil }
            return try Self.decodeHeader(statement.blob(0), height: height)
        }
    }

    public func headers(from high: UInt64, count: Int) throws(StoreError) -> [BlockHeader] {
        try locked {
            let statement = try database.statement("SELECT height, header FROM blocks WHERE height <= ? ORDER BY height DESC LIMIT ?")
                .bind(.integer(Int64(clamping: high)), .integer(Int64(count)))
            var headers: [BlockHeader] = []
            while try statement.step() {
                headers.append(try Self.decodeHeader(statement.blob(1), height: UInt64(statement.integer(0))))
            }
            return headers
        }
    }

    public func height(ofBlock hash: Digest) throws(StoreError) -> UInt64? {
        try locked {
            let statement = try database.statement("SELECT height FROM blocks WHERE hash = ?").bind(.blob(hash.bytes))
            return try statement.step() ? UInt64(statement.integer(0)) : nil
        }
    }

    public func block(at height: UInt64) throws(StoreError) -> Block? {
        try locked {
            let statement = try database.statement("SELECT hash, body FROM blocks WHERE height = ?").bind(.integer(Int64(height)))
            guard try statement.step() else { return nil }
            let hash = statement.blob(0)
            let encoded: [UInt8]
            do { encoded = try Compression.decompress(statement.blob(1), sizeMax: Block.encodedBytesMax) } catch {
                throw StoreError.damaged("block \(height): \(error)")
            }
            let block: Block
            do { block = try Block(encoded: encoded) } catch { throw StoreError.damaged("block \(height) does not decode: \(error)") }
            // Read back, check: the body must be the block the index says it is.
            guard block.hash.bytes == hash, block.height == height else {
                throw StoreError.damaged("block \(height) body does not match its recorded hash")
            }
            return block
        }
    }

    private static func decodeHeader(_ bytes: [UInt8], height: UInt64) throws -> BlockHeader {
        do {
            let header = try BlockHeader(encoded: bytes)
            guard header.height == height else { throw StoreError.damaged("header stored at height \(height) says \(header.height)") }
            return header
        } catch let error as StoreError { throw error } catch { throw StoreError.damaged("header \(height) does not decode: \(error)") }
    }

    public struct TransactionLocation: Sendable {
        public let height: UInt64
        public let position: Int
    }

    public func locate(transaction id: Digest) throws(StoreError) -> TransactionLocation? {
        try locked {
            let statement = try database.statement("SELECT height, position FROM transactions WHERE id = ?").bind(.blob(id.bytes))
            guard try statement.step() else { return nil }
            return TransactionLocation(height: UInt64(statement.integer(0)), position: Int(statement.integer(1)))
        }
    }

    /// Transactions that name `account`, newest first.
    public func transactions(involving account: ID, limit: Int) throws(StoreError) -> [(id: Digest, height: UInt64, type: String)] {
        try locked {
            let statement = try database.statement(
                "SELECT a.id, a.height, t.type FROM transaction_accounts AS a JOIN transactions AS t ON t.id = a.id "
                    + "WHERE a.account = ? ORDER BY a.height DESC, t.position DESC LIMIT ?")
                .bind(.blob(account.bytes), .integer(Int64(limit)))
            var out: [(id: Digest, height: UInt64, type: String)] = []
            while try statement.step() { out.append((Digest(bytes: statement.blob(0))!, UInt64(statement.integer(1)), statement.text(2))) }
            return out
        }
    }

    /// Transactions in all stored blocks: the `meta` counter, read in constant time.
    public func transactionCount() throws(StoreError) -> Int {
        try locked {
            let statement = try database.statement("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'transaction_count'")
            return try statement.step() ? Int(statement.integer(0)) : 0
        }
    }

    // MARK: - Reading state

    /// The latest value of every key, as the state after the newest block.
    public func loadLatestState() throws(StoreError) -> LedgerState {
        let (values, height) = try locked {
            var values: [ID: CBOR] = [:]
            let statement = try database.statement("""
                SELECT key, value FROM state_values AS s
                WHERE height = (SELECT max(height) FROM state_values WHERE key = s.key) AND value IS NOT NULL
                """)
            while try statement.step() {
                guard let key = ID(bytes: statement.blob(0)) else { throw StoreError.damaged("a state key is not 20 bytes") }
                do { values[key] = try CBORDecoder.decode(statement.blob(1)) } catch {
                    throw StoreError.damaged("state value at \(key) does not decode: \(error)")
                }
            }
            return (values, try latestHeightUnlocked() ?? 0)
        }
        return LedgerState(values: values, height: height)
    }

    /// The value of `key` after block `height`.
    public func value(_ key: ID, atHeight height: UInt64) throws(StoreError) -> CBOR? {
        try locked {
            let statement = try database.statement(
                "SELECT value FROM state_values WHERE key = ? AND height <= ? ORDER BY height DESC LIMIT 1")
                .bind(.blob(key.bytes), .integer(Int64(clamping: height)))
            guard try statement.step(), !statement.isNull(0) else { return nil }
            return try CBORDecoder.decode(statement.blob(0))
        }
    }

    /// The versions of `key`, newest first: each height at which a block changed it, and its value after
    /// that block (nil where it was removed). At most `limit` (the page), read by the (key, height) index.
    public func history(_ key: ID, limit: Int) throws(StoreError) -> [(height: UInt64, timeMillis: UInt64, value: CBOR?)] {
        try locked {
            let statement = try database.statement("""
                SELECT s.height, b.time, s.value FROM state_values AS s JOIN blocks AS b ON b.height = s.height
                WHERE s.key = ? ORDER BY s.height DESC LIMIT ?
                """).bind(.blob(key.bytes), .integer(Int64(max(0, limit))))
            var versions: [(height: UInt64, timeMillis: UInt64, value: CBOR?)] = []
            while try statement.step() {
                versions.append((UInt64(max(0, statement.integer(0))), UInt64(max(0, statement.integer(1))),
                                 statement.isNull(2) ? nil : try CBORDecoder.decode(statement.blob(2))))
            }
            return versions
        }
    }

    /// A proof for `key` against the state root of block `height`, walking stored tree nodes.
    public func proof(_ key: ID, atHeight height: UInt64) throws(StoreError) -> StateProof? {
        guard let header = try self.header(at: height) else { return nil }
        return try locked {
            let lookup = try database.statement("SELECT node FROM tree_nodes WHERE hash = ?")
            var current = header.stateRoot
            var siblings: [Digest] = []
            while current != .zero {
                try lookup.bind(.blob(current.bytes))
                guard try lookup.step(), let node = StoredTreeNode(encoded: lookup.blob(0)) else {
                    throw StoreError.damaged("state tree node \(current) is missing")
                }
                switch node {
                case .leaf(let leafKey, let valueHash):
                    return StateProof(key: key, pathSiblings: siblings, terminal: .leaf(key: leafKey, valueHash: valueHash))
                case .branch(let left, let right):
                    let goRight = key.bit(siblings.count)
                    siblings.append(goRight ? left : right)
                    current = goRight ? right : left
                }
            }
            return StateProof(key: key, pathSiblings: siblings, terminal: .empty)
        }
    }

    /// Keys of the latest records of `kind` that relate `party` in either position.
    public func keys(kind: String, involving party: ID, limit: Int = 1000) throws(StoreError) -> [ID] {
        let first = try keys(kind: kind, first: party, limit: limit)
        let second = try keys(kind: kind, second: party, limit: limit)
        return Array(Set(first + second)).sorted()
    }

    /// Keys of the latest state's records of `kind`, optionally filtered by the IDs they relate.
    public func keys(kind: String, first: ID? = nil, second: ID? = nil, limit: Int = 1000) throws(StoreError) -> [ID] {
        try locked {
            var sql = "SELECT key FROM state_index WHERE kind = ?"
            var values: [SQLiteValue] = [.text(kind)]
            if let first { sql += " AND first = ?"; values.append(.blob(first.bytes)) }
            if let second { sql += " AND second = ?"; values.append(.blob(second.bytes)) }
            sql += " LIMIT \(limit)"
            let statement = try database.statement(sql).bind(values)
            var keys: [ID] = []
            while try statement.step() { if let key = ID(bytes: statement.blob(0)) { keys.append(key) } }
            return keys
        }
    }
}
