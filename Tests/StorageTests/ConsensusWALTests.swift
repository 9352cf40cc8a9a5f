import Foundation
import Ledger
import Storage
import Testing

/// The consensus write-ahead log: what was written survives, a torn or damaged tail is cut, and a
/// rewrite keeps exactly what it is given.
@Suite struct ConsensusWALTests {
    static func path() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString.prefix(8))").path }

    @Test func recordsSurviveReopeningAndATornTailIsCut() throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wal = try ConsensusWAL(path: path)
        try wal.append([1, 2, 3])
        try wal.append(Array(repeating: 9, count: 1000))
        // A crash mid-write: half a record at the end.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data([0, 0, 0, 50, 1, 2]))
        try handle.close()
        let reopened = try ConsensusWAL(path: path)
        #expect(try reopened.records() == [[1, 2, 3], Array(repeating: 9, count: 1000)])
        try reopened.append([4])
        #expect(try ConsensusWAL(path: path).records() == [[1, 2, 3], Array(repeating: 9, count: 1000), [4]], "the torn tail was cut, not kept")
    }

    @Test func aDamagedRecordEndsTheLog() throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wal = try ConsensusWAL(path: path)
        try wal.append([1, 2, 3])
        try wal.append([5, 6, 7])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 6] ^= 0xff  // inside the second record's bytes
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(try ConsensusWAL(path: path).records() == [[1, 2, 3]])
    }

    @Test func aRewriteKeepsWhatItIsGiven() throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wal = try ConsensusWAL(path: path)
        for n in 0..<5 { try wal.append([UInt8(n)]) }
        try wal.rewrite([[3], [4]])
        try wal.append([5])
        #expect(try ConsensusWAL(path: path).records() == [[3], [4], [5]])
    }
}
