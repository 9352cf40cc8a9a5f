import Foundation
import Testing

/// The progress line (specs/content.md §Command line): on a terminal (a pseudo-terminal from util-linux
/// `script`), an add or a fetch of more than 4 MiB shows bytes, rate and time left on standard error;
/// never with --json, never for a small file, never when standard error is not a terminal.
@Suite(.serialized) struct ProgressLineTests {
    /// `ledgerctl ARGUMENTS` run on a pseudo-terminal: everything it wrote, as the terminal saw it.
    static func onTerminal(_ node: NodeProcess, _ arguments: [String]) throws -> String {
        let command = ([Paths.ledgerctl] + arguments + ["--data", node.data, "--node", node.url]).map { "'\($0)'" }.joined(separator: " ")
        let result = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        return result.output
    }

    @Test func addsAndFetchesOfMoreThanAFewMiBShowBytesRateAndTimeLeftOnATerminal() async throws {
        let a = try NodeProcess(name: "progress-a")
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "progress-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "60"])
        defer { b.stop() }
        let folder = Paths.temporaryFolder("progress")
        var generator = SystemRandomNumberGenerator()
        try Data((0..<(12 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: folder + "/small.bin"))

        let added = try Self.onTerminal(a, ["ipfs", "add", folder + "/big.bin"])
        #expect(added.contains("adding big.bin") && added.contains("12.0 MiB / 12.0 MiB") && added.contains("MiB/s") && added.contains("left"), "\(added)")
        let cid = try #require(added.split(whereSeparator: \.isNewline).last { $0.hasPrefix("added ") }?.split(separator: " ")[1]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!(try Self.onTerminal(a, ["ipfs", "add", folder + "/small.bin"])).contains("MiB/s"))
        #expect(!(try Self.onTerminal(a, ["ipfs", "add", "--only-hash", "--json", folder + "/big.bin"])).contains("MiB/s"))
        // Not a terminal: nothing but the result.
        #expect(try a.ctl(["ipfs", "add", "--only-hash", folder + "/big.bin"]).error.isEmpty)

        // B fetches it from A over Bitswap: the line follows B's store against the DAG's declared size.
        let fetched = try Self.onTerminal(b, ["ipfs", "get", cid, "-o", folder + "/copy.bin"])
        #expect(fetched.contains("fetching") && fetched.contains("/ 12.0 MiB") && fetched.contains("left"), "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/copy.bin")) == Data(contentsOf: URL(fileURLWithPath: folder + "/big.bin")))
    }
}
