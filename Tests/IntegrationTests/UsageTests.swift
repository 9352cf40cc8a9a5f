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

    /// GETs `url` from the loopback address `source` (127.0.0.0/8 is all loopback on Linux), through
    /// Python's http.client: status, Retry-After and body length.
    static func get(_ url: String, from source: String) throws -> (status: Int, retryAfter: String?, length: Int) {
        let script = """
            import http.client, json, sys, urllib.parse
            u = urllib.parse.urlsplit(sys.argv[1])
            c = http.client.HTTPConnection(u.hostname, u.port, source_address=(sys.argv[2], 0), timeout=30)
            c.request("GET", u.path)
            r = c.getresponse()
            body = r.read()
            print(json.dumps({"status": r.status, "retry": r.getheader("Retry-After"), "length": len(body)}))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script, url, source])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw TestFailure("python GET failed: \(result.error)")
        }
        return (object["status"] as? Int ?? 0, object["retry"] as? String, object["length"] as? Int ?? 0)
    }

    /// Anonymous browsers on the gateway (specs/usage.md §Gateway): each address is served its allowance
    /// a day and then told 429 with the reason and Retry-After; all of them together stop at the day's
    /// limit; the operator's own requests are not counted; the bytes are the operator's, shown apart from
    /// peers in the API and the CLI, and kept in the usage ledger across a restart.
    @Test func theGatewayServesEachAnonymousAddressItsAllowanceAndAllOfThemTheDaysLimit() async throws {
        let a = try NodeProcess(name: "usage-gateway")
        let path = Paths.temporaryFolder("usage-gateway") + "/page.bin"
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
        let cid = try a.ctl(["ipfs", "add", "-Q", path]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try a.start(extra: ["--gateway-allowance", "300000", "--gateway-limit", "1000000"])
        defer { a.stop() }
        let url = a.url + "/ipfs/" + cid
        // 127.0.0.2: 200 twice (400,000 bytes once the second is counted), then refused.
        #expect(try Self.get(url, from: "127.0.0.2") == (200, nil, 200_000))
        #expect(try Self.get(url, from: "127.0.0.2").status == 200)
        let refused = try Self.get(url, from: "127.0.0.2")
        #expect(refused.status == 429 && Int(refused.retryAfter ?? "") ?? 0 > 0 && Int(refused.retryAfter ?? "") ?? 0 <= 86_400)
        let answer = try await HTTP.request("GET", url, headers: [:])
        #expect(answer.status == 200, "another address has its own allowance")
        // Other addresses until the day's limit (1,000,000 bytes): then everyone is refused, with its own code.
        #expect(try Self.get(url, from: "127.0.0.3").status == 200)
        #expect(try Self.get(url, from: "127.0.0.4").status == 200)
        #expect(try Self.get(url, from: "127.0.0.5").status == 429)
        let body = try await HTTP.get(url)
        #expect(body.status == 429 && body.text.contains("gateway_limit_reached"), "\(body.text)")
        // The operator is not an anonymous client: served, and not counted.
        let admin = try await HTTP.request("GET", url, token: try a.cookie())
        #expect(admin.status == 200 && admin.body.count == 200_000)
        let usage = try await HTTP.get(a.url + "/api/v1/usage").json
        let gateway = usage["gateway"] as? [String: Any] ?? [:], today = gateway["today"] as? [String: Any] ?? [:]
        #expect((gateway["served"] as? NSNumber)?.intValue == 1_000_000, "\(gateway)")
        #expect((today["clients"] as? NSNumber)?.intValue == 4 && (today["refused"] as? NSNumber)?.intValue == 3, "\(today)")
        #expect((usage["peers"] as? [[String: Any]] ?? []).allSatisfy { $0["peer"] as? String != "anonymous" })
        #expect(try a.ctl(["usage"]).output.contains("gateway, anonymous clients (not a peer): 1000000 bytes served"))
        // Kept in the usage ledger across a restart (today's per-address counts are not).
        #expect(a.stop() == 0)
        try a.start()
        #expect(((try await HTTP.get(a.url + "/api/v1/usage").json["gateway"] as? [String: Any])?["served"] as? NSNumber)?.intValue == 1_000_000)
        #expect(try await HTTP.get(a.url + "/api/v1/usage/anonymous").status == 200)
    }
}
