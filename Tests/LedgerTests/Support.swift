import Foundation
@testable import Ledger

/// The repository root, found from this file's path, so tests read the vectors in specs/ directly.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func vector(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("specs/vectors/\(name)"))
    }
}

/// A small seeded generator (SplitMix64): every randomized test replays exactly from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// Deterministic test keys: secret = SHA256("ledgerd test key " + n).
func testKey(_ n: Int) -> SecretKey {
    try! SecretKey(bytes: SHA256.hash(Array("ledgerd test key \(n)".utf8)).bytes)
}
