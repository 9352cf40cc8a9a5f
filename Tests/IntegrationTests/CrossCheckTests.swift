import Foundation
import Testing

/// An independent client written from specs/ alone (Tests/crosscheck/crosscheck.py, plain Python with
/// hashlib) re-derives every vector: encodings, IDs, signatures, transaction IDs, block hashes, the
/// genesis and block-1 state roots, and state proofs. If the code and the specs drift apart, this fails.
@Suite struct CrossCheckTests {
    @Test func anIndependentPythonClientAgreesWithTheVectors() throws {
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let interpreter = try #require(python ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
            .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) })
        let result = try run(interpreter, [Paths.root.appendingPathComponent("Tests/crosscheck/crosscheck.py").path,
                                           Paths.root.appendingPathComponent("specs/vectors").path])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains(", 0 failed"))
        let passed = result.output.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        #expect(passed > 150, "\(result.output)")
    }
}
