import Foundation
import Ledger

/// The MiMei this node knows (specs/content.md §MiMei), in the data directory's `content.sqlite` beside
/// the blocks: each descriptor, its numbered versions (version → CID, with the head's end of life when
/// it came from the network), and whether this node follows it (fetches each new version its author
/// publishes) and provides it. Every version's CID is pinned in the content store, so garbage
/// collection keeps what a MiMei points at. The daemon and ledgerctl share the file.
public final class MiMeiStore: @unchecked Sendable {
    private let database: SQLiteDatabase
    private let lock = NSLock()
    public let content: ContentStore

    public struct Version: Equatable, Sendable {
        public let number: UInt64
        public let cid: CID
        /// The published head's end of life (milliseconds), for versions learnt from the network.
        public let endOfLife: UInt64?

        public init(number: UInt64, cid: CID, endOfLife: UInt64?) {
            self.number = number
            self.cid = cid
            self.endOfLife = endOfLife
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknown(ID)
        case exists(ID)
        case older(ID, have: UInt64, got: UInt64)
        case sqlite(String)

        public var description: String {
            switch self {
            case .unknown(let id): "no MiMei \(id) here; create or sync it first"
            case .exists(let id): "MiMei \(id) exists already"
            case .older(let id, let have, let got): "MiMei \(id) is at version \(have) here; version \(got) is not newer"
            case .sqlite(let why): "MiMei store: \(why)"
            }
        }
    }

    public init(content: ContentStore) throws(Failure) {
        self.content = content
        do {
            database = try SQLiteDatabase(path: content.path)
            try database.execute("""
                PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS mimei (id BLOB PRIMARY KEY, descriptor BLOB NOT NULL, follow INTEGER NOT NULL DEFAULT 0,
                                                  provide INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE IF NOT EXISTS mimei_versions (id BLOB NOT NULL, version INTEGER NOT NULL, cid BLOB NOT NULL, eol INTEGER,
                                                           PRIMARY KEY (id, version));
                CREATE TABLE IF NOT EXISTS mimei_heads (id BLOB PRIMARY KEY, record BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS mimei_capabilities (id BLOB PRIMARY KEY, capability BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS mimei_databases (number INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
                """)
        } catch { throw .sqlite("\(error)") }
    }

    private func locked<T>(_ body: () throws -> T) throws(Failure) -> T {
        lock.lock()
        defer {
            database.resetStatements()
            lock.unlock()
        }
        do { return try body() } catch let failure as Failure { throw failure } catch { throw .sqlite("\(error)") }
    }

    /// Records a MiMei this node created (refused if it exists) or learnt (`replace: true` keeps one held).
    public func add(_ mimei: MiMei, learnt: Bool = false) throws(Failure) {
        try locked {
            let exists = try database.statement("SELECT 1 FROM mimei WHERE id = ?").bind(.blob(mimei.id.bytes)).step()
            if exists {
                if learnt { return }
                throw Failure.exists(mimei.id)
            }
            try database.statement("INSERT INTO mimei (id, descriptor) VALUES (?, ?)").bind(.blob(mimei.id.bytes), .blob(mimei.encoded)).run()
        }
    }

    public func mimei(_ id: ID) throws(Failure) -> MiMei? {
        let bytes: [UInt8]? = try locked {
            let row = try database.statement("SELECT descriptor FROM mimei WHERE id = ?").bind(.blob(id.bytes))
            return try row.step() ? row.blob(0) : nil
        }
        guard let bytes else { return nil }
        do { return try MiMei(cbor: try CBORDecoder.decode(bytes)) } catch { throw .sqlite("the stored descriptor of \(id) is damaged: \(error)") }
    }

    /// Every MiMei held here, by ID.
    public func all() throws(Failure) -> [MiMei] {
        let rows: [[UInt8]] = try locked {
            let rows = try database.statement("SELECT descriptor FROM mimei ORDER BY id")
            var out: [[UInt8]] = []
            while try rows.step() { out.append(rows.blob(0)) }
            return out
        }
        return rows.compactMap { try? MiMei(cbor: try CBORDecoder.decode($0)) }
    }

    public func versions(_ id: ID) throws(Failure) -> [Version] {
        try locked {
            let rows = try database.statement("SELECT version, cid, eol FROM mimei_versions WHERE id = ? ORDER BY version").bind(.blob(id.bytes))
            var out: [Version] = []
            while try rows.step() {
                guard let cid = try? CID(bytes: rows.blob(1)) else { continue }
                out.append(Version(number: UInt64(rows.integer(0)), cid: cid, endOfLife: rows.isNull(2) ? nil : UInt64(rows.integer(2))))
            }
            return out
        }
    }

    public func last(_ id: ID) throws(Failure) -> Version? { try versions(id).last }

    /// A new version pointing at `cid`, numbered one above the last; its CID is pinned.
    @discardableResult
    public func addVersion(_ id: ID, cid: CID) throws(Failure) -> UInt64 {
        guard try mimei(id) != nil else { throw .unknown(id) }
        let number = (try last(id)?.number ?? 0) + 1
        try record(id, Version(number: number, cid: cid, endOfLife: nil))
        return number
    }

    /// A version learnt from the author's head: kept when newer than the last held.
    public func learn(_ head: MiMeiHead) throws(Failure) {
        try add(head.mimei, learnt: true)
        if let last = try last(head.mimei.id), last.number >= head.version {
            guard last.number == head.version, last.cid == head.cid else { throw .older(head.mimei.id, have: last.number, got: head.version) }
            return
        }
        try record(head.mimei.id, Version(number: head.version, cid: head.cid, endOfLife: head.endOfLife))
    }

    private func record(_ id: ID, _ version: Version) throws(Failure) {
        try locked {
            try database.statement("INSERT OR REPLACE INTO mimei_versions (id, version, cid, eol) VALUES (?, ?, ?, ?)")
                .bind(.blob(id.bytes), .integer(Int64(version.number)), .blob(version.cid.bytes), version.endOfLife.map { .integer(Int64($0)) } ?? .null).run()
        }
        do {
            // A private MiMei's content is marked as its own, whatever of it is held now (the rest is
            // marked as it arrives: fetches for it pass `privateTo`), before the pin that gets roots announced.
            if try mimei(id)?.isPrivate == true { try content.markPrivate(version.cid, to: id) }
            try content.pin(version.cid)
        } catch let failure as Failure { throw failure } catch { throw .sqlite("\(error)") }
    }

    /// The Redis database number a database MiMei is served under (`SELECT n`; specs/content.md §Database MiMei).
    public func setDatabaseNumber(_ id: ID, _ number: Int) throws(Failure) {
        try locked {
            try database.statement("DELETE FROM mimei_databases WHERE id = ? OR number = ?").bind(.blob(id.bytes), .integer(Int64(number))).run()
            try database.statement("INSERT INTO mimei_databases (number, id) VALUES (?, ?)").bind(.integer(Int64(number)), .blob(id.bytes)).run()
        }
    }

    /// Database numbers and their MiMei, by number.
    public func databaseNumbers() throws(Failure) -> [(number: Int, id: ID)] {
        try locked {
            let rows = try database.statement("SELECT number, id FROM mimei_databases ORDER BY number")
            var found: [(Int, ID)] = []
            while try rows.step() { if let id = ID(bytes: rows.blob(1)) { found.append((Int(rows.integer(0)), id)) } }
            return found
        }
    }

    /// The newest signed head (a DHT record's bytes) held for a MiMei: what the head exchange hands a
    /// reader, and for a private MiMei the only copy (its head is never put into the DHT).
    public func setHead(_ id: ID, record: [UInt8]) throws(Failure) {
        try locked { try database.statement("INSERT OR REPLACE INTO mimei_heads (id, record) VALUES (?, ?)").bind(.blob(id.bytes), .blob(record)).run() }
    }

    public func head(_ id: ID) throws(Failure) -> [UInt8]? {
        try locked {
            let row = try database.statement("SELECT record FROM mimei_heads WHERE id = ?").bind(.blob(id.bytes))
            return try row.step() ? row.blob(0) : nil
        }
    }

    /// This node's capability to read a private MiMei it follows (presented to the peers it asks).
    public func setCapability(_ id: ID, _ capability: [UInt8]) throws(Failure) {
        try locked {
            try database.statement("INSERT OR REPLACE INTO mimei_capabilities (id, capability) VALUES (?, ?)").bind(.blob(id.bytes), .blob(capability)).run()
        }
    }

    public func capability(_ id: ID) throws(Failure) -> [UInt8]? {
        try locked {
            let row = try database.statement("SELECT capability FROM mimei_capabilities WHERE id = ?").bind(.blob(id.bytes))
            return try row.step() ? row.blob(0) : nil
        }
    }

    /// Follow: fetch each new version the author publishes. Provide: also announce it in the DHT.
    public func setFollowing(_ id: ID, provide: Bool) throws(Failure) {
        try locked {
            try database.statement("UPDATE mimei SET follow = 1, provide = max(provide, ?) WHERE id = ?").bind(.integer(provide ? 1 : 0), .blob(id.bytes)).run()
        }
    }

    /// The MiMei followed, and whether each is provided.
    public func followed() throws(Failure) -> [(id: ID, provide: Bool)] {
        try locked {
            let rows = try database.statement("SELECT id, provide FROM mimei WHERE follow = 1 ORDER BY id")
            var out: [(id: ID, provide: Bool)] = []
            while try rows.step() { if let id = ID(bytes: rows.blob(0)) { out.append((id, rows.integer(1) != 0)) } }
            return out
        }
    }
}
