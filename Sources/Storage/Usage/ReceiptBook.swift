import Foundation

/// The metering books of this node, in the data directory's `receipts.sqlite` (specs/credit.md §Metering
/// in practice): as a provider, what it served each consumer and the newest receipt that consumer signed;
/// as a consumer, what it received from each provider, the newest receipt it signed for it, and the
/// provider's acknowledgements (its evidence in a dispute). Parties are ledger IDs (20 bytes); receipts
/// and acknowledgements are kept as their DAG-CBOR, which the network layer decodes and checks.
public final class ReceiptBook: @unchecked Sendable {
    public static let fileName = "receipts.sqlite"
    /// Acknowledgements kept per provider (the newest): a dispute needs the one for the settled number.
    public static let acksPerProvider = 1_024

    /// One stream, from either side: `moved` is bytes served (provider) or received (consumer); `units`
    /// and `sequence` are the newest receipt's, which `receipt` holds encoded.
    public struct Stream: Equatable, Sendable {
        public var party: [UInt8]
        public var moved: UInt64
        public var units: UInt64
        public var sequence: UInt64
        public var receipt: [UInt8]?

        public init(party: [UInt8], moved: UInt64 = 0, units: UInt64 = 0, sequence: UInt64 = 0, receipt: [UInt8]? = nil) {
            self.party = party
            self.moved = moved
            self.units = units
            self.sequence = sequence
            self.receipt = receipt
        }
    }

    public enum Side: String, Sendable {
        case provided, consumed
    }

    private let database: SQLiteDatabase
    private let lock = NSLock()

    public init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS provided (party BLOB PRIMARY KEY, moved INTEGER NOT NULL, units INTEGER NOT NULL,
                                                 sequence INTEGER NOT NULL, receipt BLOB) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS consumed (party BLOB PRIMARY KEY, moved INTEGER NOT NULL, units INTEGER NOT NULL,
                                                 sequence INTEGER NOT NULL, receipt BLOB) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS acks (provider BLOB NOT NULL, sequence INTEGER NOT NULL, units INTEGER NOT NULL, ack BLOB NOT NULL,
                                             PRIMARY KEY (provider, sequence)) WITHOUT ROWID;
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

    /// Every stream of one side.
    public func streams(_ side: Side) throws -> [Stream] {
        try locked {
            let rows = try database.statement("SELECT party, moved, units, sequence, receipt FROM \(side.rawValue) ORDER BY party")
            var found: [Stream] = []
            while try rows.step() {
                found.append(Stream(party: rows.blob(0), moved: UInt64(max(0, rows.integer(1))), units: UInt64(max(0, rows.integer(2))),
                                    sequence: UInt64(max(0, rows.integer(3))), receipt: rows.isNull(4) ? nil : rows.blob(4)))
            }
            return found
        }
    }

    /// Writes streams (the counters and newest receipts), in one transaction.
    public func save(_ side: Side, _ streams: [Stream]) throws {
        guard !streams.isEmpty else { return }
        try locked {
            try database.transaction {
                for stream in streams {
                    try database.statement("INSERT OR REPLACE INTO \(side.rawValue) (party, moved, units, sequence, receipt) VALUES (?, ?, ?, ?, ?)")
                        .bind(.blob(stream.party), .integer(Int64(clamping: stream.moved)), .integer(Int64(clamping: stream.units)),
                              .integer(Int64(clamping: stream.sequence)), stream.receipt.map { .blob($0) } ?? .null).run()
                }
            }
        }
    }

    /// Keeps a provider's acknowledgement of receipt `sequence`, dropping the oldest past `acksPerProvider`.
    public func saveAck(provider: [UInt8], sequence: UInt64, units: UInt64, ack: [UInt8]) throws {
        try locked {
            try database.transaction {
                try database.statement("INSERT OR REPLACE INTO acks (provider, sequence, units, ack) VALUES (?, ?, ?, ?)")
                    .bind(.blob(provider), .integer(Int64(clamping: sequence)), .integer(Int64(clamping: units)), .blob(ack)).run()
                try database.statement("""
                    DELETE FROM acks WHERE provider = ? AND sequence NOT IN
                        (SELECT sequence FROM acks WHERE provider = ? ORDER BY sequence DESC LIMIT ?)
                    """).bind(.blob(provider), .blob(provider), .integer(Int64(Self.acksPerProvider))).run()
            }
        }
    }

    /// The provider's acknowledgement of receipt `sequence`: its units and encoding.
    public func ack(provider: [UInt8], sequence: UInt64) throws -> (units: UInt64, ack: [UInt8])? {
        try locked {
            let rows = try database.statement("SELECT units, ack FROM acks WHERE provider = ? AND sequence = ?")
                .bind(.blob(provider), .integer(Int64(clamping: sequence)))
            guard try rows.step() else { return nil }
            return (UInt64(max(0, rows.integer(0))), rows.blob(1))
        }
    }
}
