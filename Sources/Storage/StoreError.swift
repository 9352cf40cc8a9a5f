/// Why the store refuses to open or to answer. A damaged or foreign file is refused, never served.
public enum StoreError: Error, CustomStringConvertible {
    case foreign(path: String)
    case damaged(String)
    case wrongChain(stored: String, expected: String)
    case notInitialized(path: String)
    case sqlite(SQLiteError)
    case io(String)

    public var description: String {
        switch self {
        case .foreign(let path): "\(path) is not a ledgerd database (its SQLite application id differs); refusing to use it"
        case .damaged(let why): "the ledger database is damaged: \(why); restore it from a backup or re-sync, then run 'ledgerd verify'"
        case .wrongChain(let stored, let expected): "the database holds chain '\(stored)' but the genesis file names '\(expected)'"
        case .notInitialized(let path): "no ledger database at \(path); run 'ledgerd init' first"
        case .sqlite(let error): "\(error)"
        case .io(let why): why
        }
    }
}
