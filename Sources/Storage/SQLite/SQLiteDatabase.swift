import CSQLite

/// A failed SQLite call, with SQLite's own message.
public struct SQLiteError: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

// SQLITE_TRANSIENT tells SQLite to copy bound buffers; the C macro is a cast that Swift cannot import.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A connection to one SQLite file, through the C API with prepared statements (the fastest path
/// measured: DESIGN §8). This file owns every SQLite pointer; one connection is used by one thread at a
/// time (callers serialize access).
public final class SQLiteDatabase: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: Statement] = [:]

    public init(path: String, readOnly: Bool = false) throws {
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var db: OpaquePointer?
        let result = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard result == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: result, message: message)
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw SQLiteError(code: result, message: text)
        }
    }

    /// A prepared statement, cached by its SQL text.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let result = sqlite3_prepare_v2(handle, sql, -1, &raw, nil)
        guard result == SQLITE_OK, let raw else { throw error(result) }
        let statement = Statement(raw: raw, database: self)
        statements[sql] = statement
        return statement
    }

    /// Resets every cached statement, ending the read snapshots that stepped-but-unfinished statements
    /// keep open. Call after each unit of work.
    public func resetStatements() {
        for statement in statements.values { statement.reset() }
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public final class Statement {
        private let raw: OpaquePointer
        private unowned let database: SQLiteDatabase

        init(raw: OpaquePointer, database: SQLiteDatabase) {
            self.raw = raw
            self.database = database
        }

        deinit { sqlite3_finalize(raw) }

        func reset() {
            sqlite3_reset(raw)
            sqlite3_clear_bindings(raw)
        }

        @discardableResult
        public func bind(_ values: SQLiteValue...) throws -> Statement { try bind(values) }

        @discardableResult
        public func bind(_ values: [SQLiteValue]) throws -> Statement {
            // A statement may still be positioned on a row from its last use; binding needs it reset.
            reset()
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                let result: Int32
                switch value {
                case .integer(let n): result = sqlite3_bind_int64(raw, index, n)
                case .text(let s): result = sqlite3_bind_text(raw, index, s, -1, transient)
                case .blob(let bytes):
                    result = bytes.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
                case .null: result = sqlite3_bind_null(raw, index)
                }
                guard result == SQLITE_OK else { throw database.error(result) }
            }
            return self
        }

        /// Advances to the next row; false when there are no more.
        public func step() throws -> Bool {
            let result = sqlite3_step(raw)
            switch result {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw database.error(result)
            }
        }

        /// Runs a statement that returns no rows.
        public func run() throws {
            while try step() {}
            sqlite3_reset(raw)
        }

        public func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

        public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

        public func text(_ column: Int32) -> String {
            guard let pointer = sqlite3_column_text(raw, column) else { return "" }
            return String(cString: pointer)
        }

        public func blob(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(raw, column))
            guard count > 0, let pointer = sqlite3_column_blob(raw, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: pointer, count: count))
        }
    }
}

public enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}
