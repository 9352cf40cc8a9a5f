import Foundation
import Ledger
import Logging
import Storage

/// The database MiMei this node serves over RESP (specs/content.md §Database MiMei), each under its
/// Redis database number. A database this node's key authored takes writes; their changes are committed
/// as the MiMei's next version each pulse, and at once on `EXEC`: the changed buckets and a new root go
/// into the content store, the version is recorded (and pinned), and `publish`, `sync` and `provide`
/// work on it as on any MiMei. A database learnt from another author is read-only here and follows the
/// versions this node receives.
public actor DatabaseHost {
    let store: MiMeiStore
    let author: ID
    let logger: Logger
    private var open: [ID: (database: KeyValueDatabase, root: CID?, writable: Bool)] = [:]
    /// Bucket blocks of each open database's current version (index → CID and size), reused by commits.
    private var buckets: [ID: [Int: (cid: CID, size: Int)]] = [:]
    /// Each open database's keys by bucket, so that a commit re-encodes a bucket without scanning every key.
    private var bucketKeys: [ID: [Int: Set<[UInt8]>]] = [:]
    private var lastRefresh = Date.distantPast
    private var numbers: [Int: ID] = [:]
    private var numbersRead = Date.distantPast

    public init(store: MiMeiStore, author: ID, logger: Logger = .quiet("ledgerd.redis")) {
        self.store = store
        self.author = author
        self.logger = logger
    }

    public enum Failure: Error, CustomStringConvertible {
        case noDatabase(Int)
        case store(String)
        public var description: String {
            switch self {
            case .noDatabase: "ERR DB index is out of range"
            case .store(let why): "ERR the database MiMei could not be read: \(why)"
            }
        }
    }

    /// The database under `number`: 0 is created on first use (authored by this node) when absent.
    public func database(number: Int) throws(Failure) -> ID {
        // Numbers are read from the store at most once a second (ledgerctl may add one meanwhile).
        if let id = numbers[number], Date().timeIntervalSince(numbersRead) < 1 { return id }
        do {
            numbers = Dictionary(try store.databaseNumbers().map { ($0.number, $0.id) }, uniquingKeysWith: { first, _ in first })
            numbersRead = Date()
            if let found = numbers[number] { return found }
            guard number == 0 else { throw Failure.noDatabase(number) }
            let mimei = try MiMei(author: author, kind: .database, app: "redis", ext: "0", mark: UInt64.random(in: 0...UInt64.max),
                                  created: UInt64(Date().timeIntervalSince1970 * 1000))
            try store.add(mimei)
            try store.setDatabaseNumber(mimei.id, 0)
            numbers[0] = mimei.id
            logger.info("created database MiMei 0", metadata: ["mimei": "\(mimei.id)"])
            return mimei.id
        } catch let failure as Failure { throw failure } catch { throw .store("\(error)") }
    }

    /// Loads a database's newest version (once; then kept open).
    private func opened(_ id: ID) throws(Failure) -> (database: KeyValueDatabase, root: CID?, writable: Bool) {
        if let held = open[id] { return held }
        do {
            guard let mimei = try store.mimei(id), mimei.kind == .database else { throw Failure.store("\(id) is not a database MiMei") }
            let root = try store.last(id)?.cid
            var database = KeyValueDatabase()
            var blocks: [Int: (cid: CID, size: Int)] = [:]
            if let root { (database, blocks) = try load(root) }
            let held = (database, root, mimei.author == author)
            open[id] = held
            buckets[id] = blocks
            bucketKeys[id] = Self.index(database)
            return held
        } catch let failure as Failure { throw failure } catch { throw .store("\(error)") }
    }

    static func index(_ database: KeyValueDatabase) -> [Int: Set<[UInt8]>] {
        var index: [Int: Set<[UInt8]>] = [:]
        for key in database.entries.keys { index[DatabaseSnapshot.bucket(of: key), default: []].insert(key) }
        return index
    }

    private func load(_ root: CID) throws -> (KeyValueDatabase, [Int: (cid: CID, size: Int)]) {
        guard let rootBlock = try store.content.get(root) else { throw Failure.store("version \(root) is not held here") }
        var entries: [[UInt8]: RedisValue] = [:], blocks: [Int: (cid: CID, size: Int)] = [:]
        for (index, cid) in try DatabaseSnapshot.decodeRoot(rootBlock) {
            guard let block = try store.content.get(cid) else { throw Failure.store("bucket \(cid) is not held here") }
            for (key, value) in try DatabaseSnapshot.decodeBucket(block, index: index) { entries[key] = value }
            blocks[index] = (cid, block.count)
        }
        return (KeyValueDatabase(entries: entries), blocks)
    }

    /// The most one key's value may take encoded: a version's bucket must fit a 2 MiB block.
    public static let valueBytesMax = 256 << 10

    /// Runs a data command; `canWrite`: the client may change this database.
    public func execute(_ id: ID, _ name: String, _ arguments: [[UInt8]], canWrite: Bool) -> RESP {
        do { _ = try opened(id) } catch { return .error("\(error)") }
        let writes = !KeyValueDatabase.readOnly.contains(name)
        if writes {
            guard canWrite else { return .error("NOPERM this user has no permissions to run the '\(name)' command") }
            guard open[id]?.writable == true else { return .error("READONLY this database MiMei is another author's; it follows their versions") }
        }
        // Taken out of `open` while it changes, so that the change is made in place, not on a copy.
        guard var held = open.removeValue(forKey: id) else { return .error("ERR the database is not open") }
        defer { open[id] = held }
        guard writes else { return held.database.execute(name, arguments) }
        // The values of the keys it names, kept (not the whole database: that would copy it).
        let before = arguments.map { ($0, held.database.entries[$0]) }
        let reply = held.database.execute(name, arguments)
        // A value too large for a version's bucket is refused, and the command undone.
        for (key, old) in before where held.database.entries[key] != old
            && (held.database.entries[key].map { DatabaseSnapshot.encodedBytes($0) } ?? 0) > Self.valueBytesMax {
            for (key, value) in before { held.database.restore(key, value) }
            return .error("ERR a value of a database MiMei is at most \(Self.valueBytesMax) bytes encoded")
        }
        return reply
    }

    /// A transaction: what is pending is committed first, the commands run with nothing in between, and
    /// they are committed as a version of their own.
    public func transaction(_ id: ID, _ commands: [(String, [[UInt8]])], canWrite: Bool) -> [RESP] {
        commit(id)
        let replies = commands.map { execute(id, $0.0, $0.1, canWrite: canWrite) }
        commit(id)
        return replies
    }

    /// Commits every database with changes as its next version.
    public func commitAll() {
        for id in open.keys { commit(id) }
        refreshFollowed()
    }

    /// Commits one database's changes (an `EXEC`, or the pulse).
    public func commit(_ id: ID) {
        guard var held = open[id], !held.database.changed.isEmpty else { return }
        var blocks = buckets[id] ?? [:], keysByBucket = bucketKeys[id] ?? [:]
        var touched: Set<Int> = []
        for key in held.database.changed {
            let index = DatabaseSnapshot.bucket(of: key)
            touched.insert(index)
            if held.database.entries[key] != nil { keysByBucket[index, default: []].insert(key) } else { keysByBucket[index]?.remove(key) }
        }
        do {
            var written: [(CID, [UInt8])] = []
            for index in touched {
                if let block = try DatabaseSnapshot.encodeBucket(Array(keysByBucket[index] ?? []), in: held.database.entries) {
                    let cid = CID.dagCBOR(block)
                    written.append((cid, block))
                    blocks[index] = (cid, block.count)
                } else {
                    blocks[index] = nil
                }
            }
            let root = DatabaseSnapshot.encodeRoot(buckets: blocks, keys: held.database.entries.count)
            let rootCID = CID.dagPB(root)
            written.append((rootCID, root))
            try store.content.put(written)
            let version = try store.addVersion(id, cid: rootCID)
            held.database.changed = []
            held.root = rootCID
            open[id] = held
            buckets[id] = blocks
            bucketKeys[id] = keysByBucket
            logger.debug("database version", metadata: ["mimei": "\(id)", "version": "\(version)", "buckets": "\(touched.count)"])
        } catch {
            logger.error("could not commit a database version", metadata: ["mimei": "\(id)", "error": "\(error)"])
        }
    }

    /// Read-only databases follow the newest version held (checked at most once a second).
    private func refreshFollowed() {
        guard Date().timeIntervalSince(lastRefresh) >= 1 else { return }
        lastRefresh = Date()
        for (id, held) in open where !held.writable {
            guard let last = try? store.last(id)?.cid, last != held.root, let (database, blocks) = try? load(last) else { continue }
            open[id] = (database, last, false)
            buckets[id] = blocks
            bucketKeys[id] = Self.index(database)
        }
    }
}
