import Foundation

enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Compares (or, with LEDGERD_WRITE_VECTORS=1, rewrites) a vector file in specs/vectors.
func checkVectors(_ name: String, _ object: Any) throws -> Bool {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
    let url = Repository.root.appendingPathComponent("specs/vectors/\(name)")
    if ProcessInfo.processInfo.environment["LEDGERD_WRITE_VECTORS"] == "1" { try data.write(to: url) }
    return try Data(contentsOf: url) == data
}
