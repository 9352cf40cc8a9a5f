import Foundation
import Testing

/// The durable usage ledger between two real ledgerd processes (specs/usage.md): A serves a 3 MiB file to
/// B over Bitswap; A's ledger shows B served, B's shows A received, both at least the file's size, and
/// A's figures survive a restart. `ledgerctl usage` prints them, the explorer draws them on the peer's
/// page; a bad peer gets one line.
@Suite(.serialized) struct UsageTests {
    @Test func bytesServedOverBitswapAreRecordedPerPeerOnBothSidesAndSurviveARestart() async throws {
        let a = try NodeProcess(name: "usage-a")
        let size = 3 * 1_048_576
        let file = Paths.temporaryFolder("usage") + "/served.bin"
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))
        let cid = try a.ctl(["ipfs", "add", "-Q", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "usage-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "60"])
        defer { b.stop() }
        #expect(try await HTTP.get(b.url + "/ipfs/" + cid).body.count == size)

        func bitswap(_ node: NodeProcess, _ peer: String) throws -> (served: Int, received: Int) {
            let peers = try node.ctlJSON(["usage"])["peers"] as? [[String: Any]] ?? []
            let usage = (peers.first { $0["peer"] as? String == peer }?["services"] as? [String: [String: Any]])?["bitswap"]
            return (usage?["served"] as? Int ?? 0, usage?["received"] as? Int ?? 0)
        }
        try await P2PNetworkTests.waitUntil("both ledgers hold the transfer", seconds: 30) {
            try bitswap(a, b.peerID).served >= size && bitswap(b, a.peerID).received >= size
        }
        let served = try bitswap(a, b.peerID).served
        #expect(served < size + size / 10, "Bitswap framing is small: \(served) bytes for a \(size)-byte file")
        let table = try a.ctl(["usage"])
        #expect(table.status == 0 && table.output.contains(b.peerID) && table.output.contains("bitswap"))
        let windows = try a.ctlJSON(["usage", b.peerID])["windows"] as? [[String: Any]] ?? []
        #expect(windows.contains { $0["service"] as? String == "bitswap" && $0["span"] as? Int == 3_600 })

        // The explorer's page for B on A: bars of bytes served per window, the service table, the account.
        let page = try await HTTP.get(a.url + "/peer/" + b.peerID)
        #expect(page.status == 200 && page.text.contains("<svg id=\"served-chart\"") && page.text.contains("<rect x=") && page.text.contains("<td>bitswap</td>"))
        #expect(page.text.contains("/account/ld1") && page.text.contains("No letter of credit from this node"))
        #expect(try await HTTP.get(a.url + "/network").text.contains("/peer/" + b.peerID))
        #expect(try await HTTP.get(a.url + "/peer/not-a-peer").status == 400)

        // A restart keeps what was recorded.
        a.stop()
        try a.start()
        #expect(try bitswap(a, b.peerID).served >= served)
        let bad = try a.ctl(["usage", "not-a-peer"])
        #expect(bad.status != 0 && bad.error.split(separator: "\n").count == 1)
        #expect(try await HTTP.get(a.url + "/api/v1/usage/not-a-peer").status == 400)
    }
}
