import Foundation
import Ledger

/// Content blocks by CID in the data directory (`content.sqlite`), with pins and garbage collection of
/// what no pin reaches. A block's bytes are checked against its CID when written and again when read, so
/// a damaged file is noticed instead of served. The store has a size limit; a block over
/// `blockBytesMax` is refused (Bitswap's limit, 2 MiB).
///
/// SQLite, measured against one file per block for 256 KiB blocks in `make bench`'s report: on a quiet
/// machine files wrote 2.5 × and read 1.27 × faster (neither fsyncs). SQLite is kept for now because a
/// batch, its pins and the bytes used change in one crash-safe transaction; files (with the index in
/// SQLite) are the faster back end to try when Bitswap makes the store's speed matter.
/// Reachability is found by marking from the pins at collection time (mark and sweep) rather than by
/// reference counts kept on every write: a write is then one row, and a crash between a count and its
/// block cannot leave a count wrong.
public final class ContentStore: @unchecked Sendable {
    public static let blockBytesMax = 2 * 1024 * 1024
    public static let bytesMaxDefault: UInt64 = 16 << 30

    public let path: String
    public let bytesMax: UInt64
    private let database: SQLiteDatabase
    private let lock = NSLock()
    /// Bytes of block data held (kept in the `meta` table, so opening reads one row). The daemon and
    /// ledgerctl share the file, so every write reads the row again inside its transaction rather than
    /// trusting this copy.
    public private(set) var bytesUsed: UInt64 = 0

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case mismatch(CID)
        case damaged(CID)
        case tooLarge(CID, Int)
        case full(needed: Int, free: UInt64)
        case sqlite(String)

        public var description: String {
            switch self {
            case .mismatch(let cid): "the bytes given for \(cid) are not its content"
            case .damaged(let cid): "the stored block \(cid) no longer matches its CID: the content store is damaged"
            case .tooLarge(let cid, let size): "block \(cid) is \(size) bytes, over the \(ContentStore.blockBytesMax)-byte limit"
            case .full(let needed, let free): "the content store is full: \(needed) bytes needed, \(free) free; unpin and run repo gc, or raise the limit"
            case .sqlite(let message): "content store: \(message)"
            }
        }
    }

    /// Verified blocks kept in memory, read again without SQLite or hashing (the gateway's hot objects).
    private var cache: VerifiedBlocks

    public init(path: String, bytesMax: UInt64 = ContentStore.bytesMaxDefault, cacheBytes: Int = VerifiedBlocks.bytesDefault) throws(Failure) {
        self.path = path
        self.bytesMax = bytesMax
        cache = VerifiedBlocks(bytesMax: cacheBytes)
        do {
            database = try SQLiteDatabase(path: path)
            try database.execute("""
                PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS blocks (cid BLOB PRIMARY KEY, data BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS pins (cid BLOB PRIMARY KEY, recursive INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS private_blocks (cid BLOB NOT NULL, mimei BLOB NOT NULL, PRIMARY KEY (cid, mimei)) WITHOUT ROWID;
                INSERT OR IGNORE INTO meta VALUES ('bytes_used', 0);
                INSERT OR IGNORE INTO meta VALUES ('collections', 0);
                """)
            let row = try database.statement("SELECT value FROM meta WHERE key = 'bytes_used'")
            if try row.step() { bytesUsed = UInt64(max(0, row.integer(0))) }
            database.resetStatements()
        } catch { throw .sqlite("\(error)") }
    }

    /// A `meta` row; call inside `locked`.
    private func metaValue(_ key: String) throws -> UInt64 {
        let row = try database.statement("SELECT value FROM meta WHERE key = ?").bind(.text(key))
        defer { row.reset() }
        return try row.step() ? UInt64(max(0, row.integer(0))) : 0
    }

    /// Bytes of block data held now, by any process (read from the file, not this copy).
    public var bytesUsedNow: UInt64 { (try? locked { try metaValue("bytes_used") }) ?? bytesUsed }

    /// How many garbage collections this store has seen (by any process): what was complete before one
    /// may not be after it.
    public var collections: UInt64 { (try? locked { try metaValue("collections") }) ?? 0 }

    private func locked<T>(_ body: () throws -> T) throws(Failure) -> T {
        lock.lock()
        defer {
            database.resetStatements()
            lock.unlock()
        }
        do { return try body() } catch let failure as Failure { throw failure } catch { throw .sqlite("\(error)") }
    }

    /// Stores blocks (each checked against its CID) in one transaction; those held already are skipped.
    /// `privateTo` marks every one of them (held already or not) as part of that private MiMei in the same
    /// transaction, so that no reader without a capability can see a block before it is marked.
    public func put(_ blocks: [(CID, [UInt8])], privateTo: ID? = nil) throws(Failure) {
        for (cid, bytes) in blocks {
            guard bytes.count <= Self.blockBytesMax else { throw .tooLarge(cid, bytes.count) }
            guard cid.matches(bytes) else { throw .mismatch(cid) }
        }
        try locked {
            try database.transaction {
                bytesUsed = try metaValue("bytes_used")
                var added: UInt64 = 0
                for (cid, bytes) in blocks {
                    if let privateTo { try tag(cid, privateTo) }
                    let exists = try database.statement("SELECT 1 FROM blocks WHERE cid = ?").bind(.blob(cid.bytes))
                    if try exists.step() { continue }
                    guard bytesUsed + added + UInt64(bytes.count) <= bytesMax else {
                        throw Failure.full(needed: bytes.count, free: bytesMax - min(bytesMax, bytesUsed + added))
                    }
                    try database.statement("INSERT INTO blocks (cid, data) VALUES (?, ?)").bind(.blob(cid.bytes), .blob(bytes)).run()
                    added += UInt64(bytes.count)
                }
                try database.statement("UPDATE meta SET value = ? WHERE key = 'bytes_used'").bind(.integer(Int64(bytesUsed + added))).run()
                bytesUsed += added
            }
        }
    }

    public func put(_ cid: CID, _ bytes: [UInt8], privateTo: ID? = nil) throws(Failure) { try put([(cid, bytes)], privateTo: privateTo) }

    // MARK: - Private blocks

    /// Call inside `locked`.
    private func tag(_ cid: CID, _ mimei: ID) throws {
        try database.statement("INSERT OR IGNORE INTO private_blocks (cid, mimei) VALUES (?, ?)").bind(.blob(cid.bytes), .blob(mimei.bytes)).run()
    }

    /// The private MiMei a block belongs to (empty: a public block). A block in several is readable with
    /// a capability for any of them; one that is also in public content stays private here, the safe side.
    public func privateOwners(_ cid: CID) throws(Failure) -> [ID] {
        try locked {
            let rows = try database.statement("SELECT mimei FROM private_blocks WHERE cid = ?").bind(.blob(cid.bytes))
            var owners: [ID] = []
            while try rows.step() { if let id = ID(bytes: rows.blob(0)) { owners.append(id) } }
            return owners
        }
    }

    /// Whether `access` may read the block (held or not).
    public func readable(_ cid: CID, by access: ContentAccess) throws(Failure) -> Bool {
        guard case .granted(let mimei) = access else { return true }
        let owners = try privateOwners(cid)
        return owners.isEmpty || owners.contains(where: mimei.contains)
    }

    /// Marks `root` and every block under it held here as part of the private MiMei `mimei`.
    public func markPrivate(_ root: CID, to mimei: ID) throws(Failure) {
        var marked: Set<CID> = [root]
        var pending = [root]
        while let cid = pending.popLast() {
            guard cid.codec == CID.dagPBCodec, let block = try get(cid), let links = try? DagPB.links(of: block) else { continue }
            for link in links where marked.insert(link.cid).inserted { pending.append(link.cid) }
        }
        try locked { try database.transaction { for cid in marked { try tag(cid, mimei) } } }
    }

    /// A block's bytes, checked against its CID when read from the file; nil when not held.
    public func get(_ cid: CID) throws(Failure) -> [UInt8]? {
        let bytes: [UInt8]? = try locked {
            if let cached = cache.block(cid) { return cached }
            let row = try database.statement("SELECT data FROM blocks WHERE cid = ?").bind(.blob(cid.bytes))
            return try row.step() ? row.blob(0) : nil
        }
        guard let bytes else { return nil }
        if cache.holds(cid) { return bytes }
        guard cid.matches(bytes) else { throw .damaged(cid) }
        lock.lock()
        cache.verified(cid, bytes)
        lock.unlock()
        return bytes
    }

    public func has(_ cid: CID) throws(Failure) -> Bool {
        try locked { try database.statement("SELECT 1 FROM blocks WHERE cid = ?").bind(.blob(cid.bytes)).step() }
    }

    public var blockCount: Int {
        (try? locked { () -> Int in
            let row = try database.statement("SELECT count(*) FROM blocks")
            return try row.step() ? Int(row.integer(0)) : 0
        }) ?? 0
    }

    /// Pins a root: `recursive` keeps everything it links to, else the block alone.
    public func pin(_ cid: CID, recursive: Bool = true) throws(Failure) {
        try locked { try database.statement("INSERT OR REPLACE INTO pins (cid, recursive) VALUES (?, ?)").bind(.blob(cid.bytes), .integer(recursive ? 1 : 0)).run() }
    }

    /// Removes a pin; false when there was none.
    @discardableResult
    public func unpin(_ cid: CID) throws(Failure) -> Bool {
        let pinned = try pins().contains { $0.cid == cid }
        try locked { try database.statement("DELETE FROM pins WHERE cid = ?").bind(.blob(cid.bytes)).run() }
        return pinned
    }

    public func isPinned(_ cid: CID) throws(Failure) -> Bool {
        try locked { try database.statement("SELECT 1 FROM pins WHERE cid = ? AND recursive = 1").bind(.blob(cid.bytes)).step() }
    }

    public func pins() throws(Failure) -> [(cid: CID, recursive: Bool)] {
        try locked {
            let rows = try database.statement("SELECT cid, recursive FROM pins ORDER BY cid")
            var pins: [(cid: CID, recursive: Bool)] = []
            while try rows.step() { if let cid = try? CID(bytes: rows.blob(0)) { pins.append((cid, rows.integer(1) != 0)) } }
            return pins
        }
    }

    /// Deletes every block no pin reaches (recursive pins through their dag-pb links; blocks a pin names
    /// but the store lacks are passed over). Returns what was removed.
    @discardableResult
    public func collectGarbage() throws(Failure) -> (blocks: Int, bytes: UInt64) {
        var kept = Set<CID>()
        var pending: [CID] = []
        for pin in try pins() {
            kept.insert(pin.cid)
            if pin.recursive { pending.append(pin.cid) }
        }
        while let cid = pending.popLast() {
            guard cid.codec == CID.dagPBCodec, let block = try get(cid), let links = try? DagPB.links(of: block) else { continue }
            for link in links where kept.insert(link.cid).inserted { pending.append(link.cid) }
        }
        return try locked {
            try database.transaction {
                var doomed: [(CID, Int)] = []
                let rows = try database.statement("SELECT cid, length(data) FROM blocks")
                while try rows.step() {
                    guard let cid = try? CID(bytes: rows.blob(0)) else { continue }
                    if !kept.contains(cid) { doomed.append((cid, Int(rows.integer(1)))) }
                }
                rows.reset()
                var freed: UInt64 = 0
                cache.removeAll()
                for (cid, size) in doomed {
                    try database.statement("DELETE FROM blocks WHERE cid = ?").bind(.blob(cid.bytes)).run()
                    try database.statement("DELETE FROM private_blocks WHERE cid = ?").bind(.blob(cid.bytes)).run()
                    freed += UInt64(size)
                }
                bytesUsed = try metaValue("bytes_used")
                bytesUsed -= min(bytesUsed, freed)
                try database.statement("UPDATE meta SET value = ? WHERE key = 'bytes_used'").bind(.integer(Int64(bytesUsed))).run()
                try database.statement("UPDATE meta SET value = value + 1 WHERE key = 'collections'").run()
                return (doomed.count, freed)
            }
        }
    }
}
