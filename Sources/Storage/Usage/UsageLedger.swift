import Foundation

/// Bytes served to and received from each peer, per service (specs/usage.md): the durable side of the
/// swarm's in-memory counters, in the data directory's `usage.sqlite`. Usage is added to the hour it
/// happened in; hours older than `hoursKept` are rolled into their day, and a day keeps at most
/// `peersPerDay` peers by name — the rest are summed under `others` — so rows stay bounded whatever the
/// number of peers that come and go, and totals are never lost to the roll-up.
public final class UsageLedger: @unchecked Sendable {
    public static let fileName = "usage.sqlite"
    public static let hour: Int64 = 3_600
    public static let day: Int64 = 86_400
    public static let hoursKept: Int64 = 48
    public static let peersPerDay = 4_096
    public static let others = "others"

    public struct Usage: Equatable, Sendable {
        public var served: UInt64
        public var received: UInt64
        public init(served: UInt64 = 0, received: UInt64 = 0) {
            self.served = served
            self.received = received
        }
    }

    /// One window's row: `span` is an hour or a day, starting at `start` (seconds since 1970, UTC).
    public struct Row: Equatable, Sendable {
        public let peer: String
        public let service: String
        public let start: Int64
        public let span: Int64
        public let usage: Usage
    }

    private let database: SQLiteDatabase
    private let lock = NSLock()

    public init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS usage (peer TEXT NOT NULL, service TEXT NOT NULL, start INTEGER NOT NULL, span INTEGER NOT NULL,
                                              served INTEGER NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (peer, service, start, span)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS usage_by_window ON usage (span, start);
            CREATE INDEX IF NOT EXISTS usage_by_peer_time ON usage (peer, start);
            """)
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer {
            database.resetStatements()
            lock.unlock()
        }
        return try body()
    }

    /// Adds usage that happened at `now` (seconds since 1970), in one transaction.
    public func add(_ deltas: [String: [String: Usage]], now: Int64) throws {
        let start = now - now % Self.hour
        try locked {
            try database.transaction {
                for (peer, services) in deltas {
                    for (service, usage) in services where usage.served > 0 || usage.received > 0 {
                        try upsert(peer: peer, service: service, start: start, span: Self.hour, usage)
                    }
                }
            }
        }
    }

    /// Call inside `locked`.
    private func upsert(peer: String, service: String, start: Int64, span: Int64, _ usage: Usage) throws {
        try database.statement("""
            INSERT INTO usage (peer, service, start, span, served, received) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (peer, service, start, span) DO UPDATE SET served = served + excluded.served, received = received + excluded.received
            """).bind(.text(peer), .text(service), .integer(start), .integer(span), .integer(Int64(clamping: usage.served)), .integer(Int64(clamping: usage.received))).run()
    }

    /// Rolls hours older than `hoursKept` into their days (at most `peersPerDay` peers a day by name).
    public func rollUp(now: Int64) throws {
        let cutoff = now - now % Self.hour - Self.hoursKept * Self.hour
        try locked {
            try database.transaction {
                var old: [Row] = []
                let rows = try database.statement("SELECT peer, service, start, served, received FROM usage WHERE span = ? AND start < ?")
                    .bind(.integer(Self.hour), .integer(cutoff))
                while try rows.step() {
                    old.append(Row(peer: rows.text(0), service: rows.text(1), start: rows.integer(2), span: Self.hour,
                                   usage: Usage(served: UInt64(max(0, rows.integer(3))), received: UInt64(max(0, rows.integer(4))))))
                }
                rows.reset()
                guard !old.isEmpty else { return }
                for (dayStart, rowsOfDay) in Dictionary(grouping: old, by: { $0.start - $0.start % Self.day }) {
                    // Peers already named on that day keep their name; the largest others fill what is left.
                    let named = try peersNamed(on: dayStart)
                    var volume: [String: UInt64] = [:]
                    for row in rowsOfDay { volume[row.peer, default: 0] &+= row.usage.served &+ row.usage.received }
                    let room = max(0, Self.peersPerDay - named.count)
                    let newcomers = volume.keys.filter { !named.contains($0) }.sorted { (volume[$0] ?? 0, $1) > (volume[$1] ?? 0, $0) }
                    let kept = named.union(newcomers.prefix(room))
                    for row in rowsOfDay {
                        try upsert(peer: kept.contains(row.peer) ? row.peer : Self.others, service: row.service, start: dayStart, span: Self.day, row.usage)
                    }
                }
                try database.statement("DELETE FROM usage WHERE span = ? AND start < ?").bind(.integer(Self.hour), .integer(cutoff)).run()
            }
        }
    }

    /// Call inside `locked`.
    private func peersNamed(on dayStart: Int64) throws -> Set<String> {
        let rows = try database.statement("SELECT DISTINCT peer FROM usage WHERE span = ? AND start = ?").bind(.integer(Self.day), .integer(dayStart))
        defer { rows.reset() }
        var peers: Set<String> = []
        while try rows.step() { peers.insert(rows.text(0)) }
        peers.remove(Self.others)
        return peers
    }

    /// Every peer's totals per service, over all time kept.
    public func totals() throws -> [String: [String: Usage]] {
        try locked {
            let rows = try database.statement("SELECT peer, service, sum(served), sum(received) FROM usage GROUP BY peer, service")
            var out: [String: [String: Usage]] = [:]
            while try rows.step() {
                out[rows.text(0), default: [:]][rows.text(1)] = Usage(served: UInt64(max(0, rows.integer(2))), received: UInt64(max(0, rows.integer(3))))
            }
            return out
        }
    }

    /// One peer's newest `limit` windows, returned oldest first (days, then the hours kept): read
    /// newest first off the (peer, start) index, so the cost is the page's, not the node's age.
    public func windows(of peer: String, limit: Int = 500) throws -> [Row] {
        try locked {
            let rows = try database.statement("""
                SELECT service, start, span, served, received FROM usage INDEXED BY usage_by_peer_time
                WHERE peer = ? ORDER BY start DESC, span, service DESC LIMIT ?
                """).bind(.text(peer), .integer(Int64(max(0, limit))))
            var out: [Row] = []
            while try rows.step() {
                out.append(Row(peer: peer, service: rows.text(0), start: rows.integer(1), span: rows.integer(2),
                               usage: Usage(served: UInt64(max(0, rows.integer(3))), received: UInt64(max(0, rows.integer(4))))))
            }
            return out.reversed()
        }
    }

    public var rowCount: Int {
        (try? locked { () -> Int in
            let row = try database.statement("SELECT count(*) FROM usage")
            return try row.step() ? Int(row.integer(0)) : 0
        }) ?? 0
    }
}
