import Foundation
import Ledger
import Testing

/// DHT answers billed into the ledger between real ledgerd processes on loopback (specs/credit.md
/// §Metering in practice, "DHT answers"). The chain's genesis prices an answered query at 64 KiB; A
/// grants B a 1 MiB line; B's lookups to A are counted on both sides, receipted and settled on the chain,
/// and once B's exposure passes the line plus the tolerance A answers none of B's queries.
@Suite(.serialized) struct DHTMeteringTests {
    static let kib = 1 << 10, mib = 1 << 20

    /// Two nodes on one chain whose genesis gives `coefficients.dht_query`: development chains made by
    /// `ledgerd init` give the keys; A's genesis is edited (the price, and a balance for B, which pays
    /// what the line does not cover) and both are initialised again from it with the same keys.
    static func pricedPair(dhtQuery: Int, balanceOfB: Int) throws -> (NodeProcess, NodeProcess) {
        let draftA = try NodeProcess(name: "dht-meter-a-draft"), draftB = try NodeProcess(name: "dht-meter-b-draft")
        var genesis = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: draftA.data + "/genesis.json"))) as? [String: Any])
        var params = try #require(genesis["params"] as? [String: Any])
        var coefficients = try #require(params["coefficients"] as? [String: Any])
        coefficients["dht_query"] = dhtQuery
        params["coefficients"] = coefficients
        genesis["params"] = params
        genesis["balances"] = (genesis["balances"] as? [[String: Any]] ?? []) + [["account": try draftB.key("node").publicKey.id.text, "amount": balanceOfB]]
        let edited = Paths.temporaryFolder("dht-meter-genesis") + "/genesis.json"
        try JSONSerialization.data(withJSONObject: genesis).write(to: URL(fileURLWithPath: edited))
        func again(_ draft: NodeProcess, _ name: String) throws -> NodeProcess {
            let data = Paths.temporaryFolder(name)
            try FileManager.default.createDirectory(atPath: data + "/keys", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: draft.data + "/keys/node.key", toPath: data + "/keys/node.key")
            let initialized = try run(Paths.ledgerd, ["init", "--data", data, "--genesis", edited])
            guard initialized.status == 0 else { throw TestFailure("ledgerd init failed: \(initialized.error)") }
            return NodeProcess(data: data)
        }
        return (try again(draftA, "dht-meter-a"), try again(draftB, "dht-meter-b"))
    }

    @Test func dhtAnswersAreCountedPerQueryAtTheGenesisPriceSettledAndStoppedAtTheLine() async throws {
        let price = 64 * Self.kib, limit = Self.mib, tolerance = 128 * Self.kib
        let (a, b) = try Self.pricedPair(dhtQuery: price, balanceOfB: 8 * Self.mib)
        let settings = ["--settle-interval", "2", "--credit-tolerance", "128KiB"]
        try a.start(extra: settings)
        defer { a.stop() }
        let genesis = try await HTTP.get(a.url + "/api/v1/genesis").json
        #expect(((genesis["params"] as? [String: Any])?["coefficients"] as? [String: Any])?["dht_query"] as? Int == price, "\(genesis)")
        try b.start(extra: ["--bootstrap", a.p2pAddress] + settings)
        defer { b.stop() }
        let aID = try a.key("node").publicKey.id.text, bID = try b.key("node").publicKey.id.text

        #expect(try a.ctl(["credit", "grant", "--to", bID, "--limit", "1MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("B syncs the line") { try P2PNetworkTests.height(b) == P2PNetworkTests.height(a) }

        // B looks up a key again and again: each lookup asks A, and each answer costs 64 KiB of the line.
        var served: [String: Any] = [:]
        try await P2PNetworkTests.waitUntilAsync("A stops answering B's queries at the line", seconds: 120) {
            for _ in 0..<4 { _ = try b.ctl(["dht", "get", "/ledgerd/addr/" + aID]) }
            served = try await MeteringTests.provided(a, to: bID)
            return served["serving"] as? Bool == false
        }
        let servedUnits = MeteringTests.number(served, "served")
        #expect(servedUnits % price == 0, "units are whole answers: \(served)")
        #expect(servedUnits > limit - price && servedUnits <= limit + tolerance, "\(served)")
        #expect((served["stopped"] as? String ?? "").contains("credit exhausted"), "\(served)")
        #expect(a.log().contains("metering stopped serving a peer"))
        // Refused queries are not counted: more of them leave A's count where it was.
        for _ in 0..<3 { _ = try b.ctl(["dht", "get", "/ledgerd/addr/" + aID]) }
        #expect(MeteringTests.number(try await MeteringTests.provided(a, to: bID), "served") == servedUnits)

        // B counted the same answers and signed for them; A settles B's newest receipt on the chain.
        try await P2PNetworkTests.waitUntilAsync("B's receipts for A's answers are settled on the chain", seconds: 60) {
            let received = MeteringTests.number(try await MeteringTests.consumed(b, from: aID), "received")
            let record = try await MeteringTests.settlement(a, provider: aID, consumer: bID) ?? [:]
            return received > 0 && MeteringTests.number(record, "units") == received
        }
        let received = MeteringTests.number(try await MeteringTests.consumed(b, from: aID), "received")
        #expect(received % price == 0 && abs(received - servedUnits) <= tolerance, "B received \(received), A served \(servedUnits)")

        // The line's use against its limit over time: the grant (nothing owed), then the settled debt.
        let history = try await HTTP.get(a.url + "/api/v1/credit-lines/\(aID)/\(bID)/history").json["history"] as? [[String: Any]] ?? []
        #expect(history.count >= 2 && history.allSatisfy { MeteringTests.number($0, "limit") == limit }, "\(history)")
        #expect(MeteringTests.number(history.first ?? [:], "owed") == min(received, limit) && MeteringTests.number(history.last ?? [:], "owed") == 0, "\(history)")
        let heights = history.map { MeteringTests.number($0, "height") }
        #expect(heights == heights.sorted(by: >), "newest first")
        let one = try await HTTP.get(a.url + "/api/v1/credit-lines/\(aID)/\(bID)/history?limit=1").json["history"] as? [Any] ?? []
        #expect(one.count == 1)
        #expect(try await HTTP.get(a.url + "/api/v1/credit-lines/\(aID)/not-an-id/history").status == 400)
        #expect(try await HTTP.get(a.url + "/api/v1/credit-lines/\(aID)/\(bID)/history?limit=0").status == 400)
        let stranger = try NodeProcess(name: "dht-meter-stranger").key("node").publicKey.id.text
        #expect(try await HTTP.get(a.url + "/api/v1/credit-lines/\(aID)/\(stranger)/history").status == 404)
        let table = try a.ctl(["credit", "history", aID, bID])
        #expect(table.status == 0 && table.output.contains("OWED") && table.output.contains("100.0 %"), "\(table.output)")
        #expect(try a.ctl(["credit", "history", aID, bID, "--limit", "0"]).status != 0)
        // The explorer's page for B draws it: bars of what is owed, the limit as a dashed line.
        let page = try await HTTP.get(a.url + "/peer/" + b.peerID).text
        #expect(page.contains("<svg id=\"credit-chart\"") && page.contains("class=\"limit\"") && page.contains("class=\"used\""))
    }
}
