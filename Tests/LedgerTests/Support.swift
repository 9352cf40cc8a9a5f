import Foundation
@testable import Ledger

/// The repository root, found from this file's path, so tests read the vectors in specs/ directly.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func vector(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("specs/vectors/\(name)"))
    }
}


@_exported import LedgerTestSupport
