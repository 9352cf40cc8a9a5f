import Foundation
@testable import Ledger

/// The repository root, found from this file's path, so tests read the vectors in specs/ directly.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func vector(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("specs/vectors/\(name)"))
    }
}


/// Deterministic test keys: secret = SHA256("ledgerd test key " + n).
func testKey(_ n: Int) -> SecretKey {
    try! SecretKey(bytes: SHA256.hash(Array("ledgerd test key \(n)".utf8)).bytes)
}
