import Foundation
import Ledger

/// A node's data directory: the ledger database, the genesis file, the admin cookie and the keys.
///
/// ```
/// DIR/ledger.sqlite   DIR/genesis.json   DIR/.cookie   DIR/keys/NAME.key   DIR/http.address
/// ```
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) {
        // "~" follows the same rule as the default: $HOME first.
        if path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
            self.path = home + path.dropFirst()
        } else {
            self.path = (path as NSString).expandingTildeInPath
        }
    }

    /// `$LEDGERD_DATA` when set, else `$HOME/.ledgerd`, else the account's home directory from the
    /// password database. The same rule in `ledgerd`, `ledgerctl` and `make run` (scripts/run-local.sh),
    /// so that all three find one node even when `HOME` is not the passwd home.
    public static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let data = environment["LEDGERD_DATA"], !data.isEmpty { return data }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.ledgerd" }
        return NSHomeDirectory() + "/.ledgerd"
    }

    public var databasePath: String { path + "/" + LedgerStore.fileName }
    public var genesisPath: String { path + "/genesis.json" }
    public var cookiePath: String { path + "/.cookie" }
    public var consensusLogPath: String { path + "/consensus.wal" }
    /// Content blocks by CID, pins (specs/content.md §Store).
    public var contentStorePath: String { path + "/content.sqlite" }
    public var usagePath: String { path + "/" + UsageLedger.fileName }
    public var configPath: String { path + "/ledgerd.toml" }
    public var keysPath: String { path + "/keys" }
    /// Written by `ledgerd run` once it listens, so clients find the node without being told.
    public var httpAddressPath: String { path + "/http.address" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: databasePath) }

    public var lockPath: String { path + "/.lock" }

    /// Takes the directory's exclusive lock for the life of the process (released by the OS when it
    /// exits, even on a crash), so two daemons can never write one ledger. Throws if another holds it.
    public func lock() throws {
        let descriptor = open(lockPath, O_RDWR | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw Failure("cannot open \(lockPath)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw Failure("another ledgerd is already using \(path); stop it first, or use another --data directory")
        }
        // The descriptor stays open on purpose: closing it would release the lock.
    }

    public func createDirectories() throws {
        try FileManager.default.createDirectory(atPath: keysPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Writes a file readable only by its owner (keys and the cookie are secrets).
    public static func writeSecret(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure("cannot write \(path)")
        }
    }

    public func readCookie() throws -> String {
        guard let data = FileManager.default.contents(atPath: cookiePath), let text = String(data: data, encoding: .utf8) else {
            throw Failure("cannot read the admin cookie \(cookiePath); is --data the node's data directory?")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func readGenesis() throws -> Genesis {
        guard let data = FileManager.default.contents(atPath: genesisPath) else {
            throw Failure("no genesis file at \(genesisPath); run 'ledgerd init' first")
        }
        return try Genesis.decode(json: data)
    }

    // MARK: - Keys

    public func keyPath(_ name: String) -> String { keysPath + "/" + name + ".key" }

    public static func validKeyName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    public func loadKey(_ name: String) throws -> SecretKey {
        guard DataDirectory.validKeyName(name) else { throw Failure("key name '\(name)' may hold only letters, digits, '-' and '_'") }
        guard let data = FileManager.default.contents(atPath: keyPath(name)) else {
            throw Failure("no key named '\(name)' in \(keysPath); create it with 'ledgerctl key new \(name)'")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Hex.decode(text), let key = try? SecretKey(bytes: bytes) else {
            throw Failure("key file \(keyPath(name)) does not hold a 32-byte secret key in hex")
        }
        return key
    }

    public func saveKey(_ key: SecretKey, name: String) throws {
        guard DataDirectory.validKeyName(name) else { throw Failure("key name '\(name)' may hold only letters, digits, '-' and '_'") }
        guard !FileManager.default.fileExists(atPath: keyPath(name)) else { throw Failure("a key named '\(name)' already exists") }
        try createDirectories()
        try DataDirectory.writeSecret(Hex.encode(key.bytes) + "\n", to: keyPath(name))
    }

    /// Key names in the keys folder, sorted.
    public func keyNames() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: keysPath)) ?? []
        return files.filter { $0.hasSuffix(".key") }.map { String($0.dropLast(4)) }.sorted()
    }
}
