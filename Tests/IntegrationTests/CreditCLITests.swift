import Foundation
import Testing
import Ledger

/// Issue 3's commands against a real node: letters of credit, path payments, IOUs, receipts,
/// contracts, netting by hand and by the node once per election cycle, and the explorer's pages.
@Suite(.serialized) struct CreditCLITests {
    func funded(_ node: NodeProcess, _ names: [String]) throws {
        for name in names {
            _ = try node.ctlJSON(["key", "new", name])
            _ = try node.ctlJSON(["transfer", "--to", name, "--amount", "1GiB"])
        }
    }

    @Test func creditIOUsReceiptsAndContractsFromTheCommandLine() throws {
        let node = try NodeProcess(name: "credit-cli")
        try node.start()
        defer { node.stop() }
        try funded(node, ["alice", "bob", "carol"])

        // Grant, raise, lower; revoke keeps debt.
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "1GiB", "--increment", "1MiB", "--every", "60", "--cap", "2GiB"])
        _ = try node.ctlJSON(["credit", "raise", "--to", "alice", "--by", "512MiB"])
        _ = try node.ctlJSON(["credit", "lower", "--to", "alice", "--by", "256MiB"])
        let line = try node.ctlJSON(["credit", "show", "node", "alice"])
        #expect(line["limit"] as? Int == (1 << 30) + (256 << 20))
        #expect((line["schedule"] as? [String: Any])?["cap"] as? Int == 2 << 30)

        // A payment rippling through alice and bob to carol.
        _ = try node.ctlJSON(["credit", "grant", "--to", "node", "--limit", "1GiB", "--ripple", "--as", "alice"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "1GiB", "--ripple", "--as", "bob"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "bob", "--limit", "1GiB", "--as", "carol"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "bob", "--limit", "1", "--ripple", "--as", "alice"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "carol", "--limit", "1", "--ripple", "--as", "bob"])
        let paid = try node.ctlJSON(["credit", "pay", "--to", "carol", "--amount", "100MiB"])
        #expect((paid["path"] as? [String])?.count == 4)
        #expect(try node.ctlJSON(["credit", "show", "carol", "bob"])["owed"] as? Int == 100 << 20)
        let tooMuch = try node.ctl(["credit", "pay", "--to", "carol", "--amount", "2GiB"])
        #expect(tooMuch.status != 0 && tooMuch.error.contains("no payment"))

        // An IOU from alice to the node, passed to bob (who trusts alice), partly repaid.
        let issued = try node.ctlJSON(["iou", "issue", "--to", "node", "--amount", "300MiB", "--memo", "content fee", "--as", "alice"])
        let iou = try #require(issued["iou"] as? String)
        #expect(try node.ctlJSON(["iou", "show", iou])["outstanding"] as? Int == 300 << 20)
        _ = try node.ctlJSON(["iou", "transfer", iou, "--to", "bob"])
        #expect(try node.ctlJSON(["iou", "show", iou])["holder"] as? String == (try node.ctlJSON(["key", "--as", "bob"])["id"] as? String))
        _ = try node.ctlJSON(["iou", "repay", iou, "--amount", "100MiB", "--as", "alice"])
        #expect(try node.ctlJSON(["iou", "list", "--party", "alice"])["ious"].map { ($0 as? [[String: Any]])?.first?["outstanding"] as? Int } == 200 << 20)

        // Receipts: alice uses the node's bandwidth; the node settles; a stale receipt is refused.
        let r1 = node.data + "/r1.json", r2 = node.data + "/r2.json"
        _ = try node.ctlJSON(["receipt", "sign", "--provider", "node", "--units", "10MiB", "--sequence", "1", "--out", r1, "--as", "alice"])
        _ = try node.ctlJSON(["receipt", "sign", "--provider", "node", "--units", "30MiB", "--sequence", "2", "--out", r2, "--as", "alice"])
        let verdict = try node.ctlJSON(["receipt", "verify", r2])
        #expect(verdict["valid"] as? Bool == true && verdict["decision"] as? String == "serve")
        _ = try node.ctlJSON(["receipt", "settle", r2])
        let stale = try node.ctl(["receipt", "settle", r1])
        #expect(stale.status != 0 && stale.error.contains("stale_receipt"))
        // Alice's own receipt is no evidence for her; the node's acknowledgement of an older receipt
        // proves nothing either: she loses her deposit and the settlement stands.
        let own = try node.ctl(["receipt", "dispute", r1, "--as", "alice"])
        #expect(own.status != 0 && own.error.contains("bad_evidence"))
        let a1 = node.data + "/a1.json"
        _ = try node.ctlJSON(["receipt", "ack", r1, "--out", a1])
        _ = try node.ctlJSON(["receipt", "dispute", a1, "--as", "alice"])
        let settlements = try node.ctlJSON(["account", "show", "alice"])["settlements"] as? [[String: Any]] ?? []
        #expect(settlements.first?["units"] as? Int == 30 << 20 && settlements.first?["pending"] as? Bool == true)

        // A storage contract: created with bob, challenged, proven from bob's copy, ended.
        let content = node.data + "/content.bin"
        try Data((0..<10_000).map { UInt8(truncatingIfNeeded: ($0 &* 7) ^ ($0 >> 8)) }).write(to: URL(fileURLWithPath: content))
        _ = try node.ctlJSON(["contract", "storage", "create", "--provider", "bob", "--file", content, "--period", "600", "--periods", "4", "--deposit", "1MiB"])
        let contracts = try node.ctlJSON(["contract", "list"])["contracts"] as? [[String: Any]] ?? []
        let storage = try #require(contracts.first { $0["kind"] as? String == "storage" }?["id"] as? String)
        _ = try node.ctlJSON(["contract", "storage", "challenge", storage])
        _ = try node.ctlJSON(["contract", "storage", "prove", storage, "--file", content, "--as", "bob"])
        #expect((try node.ctlJSON(["contract", "show", storage])["challenge"] as? [String: Any])?["answered"] as? Bool == true)
        let wrongFile = node.data + "/other.bin"
        try Data(repeating: 1, count: 10_000).write(to: URL(fileURLWithPath: wrongFile))
        let wrong = try node.ctl(["contract", "storage", "prove", storage, "--file", wrongFile, "--as", "bob"])
        #expect(wrong.status != 0)
        _ = try node.ctlJSON(["contract", "storage", "end", storage])
        #expect(try node.ctlJSON(["contract", "show", storage])["ended"] as? Bool == true)
        _ = try node.ctlJSON(["contract", "forward", "create", "--relay", "carol", "--price-ppm", "250000"])

        // Netting by hand clears the node ⇄ alice cycle.
        let preview = try node.ctlJSON(["credit", "net", "--dry-run"])
        #expect((preview["relieved"] as? Int ?? 0) > 0)
        let netted = try node.ctlJSON(["credit", "net"])
        #expect(netted["type"] as? String == "credit.net")
        #expect(try node.ctlJSON(["credit", "net", "--dry-run"])["relieved"] as? Int == 0)

        node.stop()
        let verify = try run(Paths.ledgerd, ["verify", "--data", node.data])
        #expect(verify.status == 0, "\(verify.error)")
    }

    /// With a short election cycle the node nets debt cycles by itself.
    @Test func theNodeNetsOncePerElectionCycle() async throws {
        let node = try NodeProcess(name: "auto-net", initialize: false)
        let key = SecretKey.generate()
        try FileManager.default.createDirectory(atPath: node.data + "/keys", withIntermediateDirectories: true)
        try Hex.encode(key.bytes).write(toFile: node.data + "/keys/node.key", atomically: true, encoding: .utf8)
        let now = UInt64(Date().timeIntervalSince1970) * 1000
        let genesis = Genesis.development(chainID: "auto-net", timeMillis: now, bookkeeper: key.publicKey, balances: [(key.publicKey.id, 1 << 40)])
        var document = genesis
        document.parameters.electionCyclePulses = 4
        try document.encodeJSON().write(to: URL(fileURLWithPath: node.data + "/genesis.json"))
        let initialized = try run(Paths.ledgerd, ["init", "--data", node.data, "--genesis", node.data + "/genesis.json"])
        #expect(initialized.status == 0, "\(initialized.error)")
        try node.start()
        defer { node.stop() }
        try funded(node, ["alice", "bob"])
        // node → alice → bob → node, each owing the next 10 MiB.
        for (debtor, creditor) in [("node", "alice"), ("alice", "bob"), ("bob", "node")] {
            _ = try node.ctlJSON(["credit", "grant", "--to", debtor, "--limit", "1GiB", "--as", creditor])
            _ = try node.ctlJSON(["credit", "pay", "--to", creditor, "--amount", "10MiB", "--as", debtor])
        }
        let deadline = Date().addingTimeInterval(20)
        var relieved = -1
        while Date() < deadline {
            relieved = try await HTTP.get(node.url + "/api/v1/netting").json["relieved"] as? Int ?? -1
            if relieved == 0 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(relieved == 0, "the node did not clear the cycle by itself")
        #expect(node.log().contains("netting submitted"))
        #expect(try node.ctlJSON(["credit", "show", "alice", "node"])["owed"] as? Int ?? -1 == 0)
    }

    @Test func creditPagesRenderInChromium() throws {
        let node = try NodeProcess(name: "credit-explorer")
        try node.start()
        defer { node.stop() }
        try funded(node, ["alice"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "2GiB"])
        _ = try node.ctlJSON(["iou", "issue", "--to", "node", "--amount", "5MiB", "--memo", "<b>fee</b>", "--as", "alice"])
        let me = try node.ctlJSON(["key"])["id"] as! String
        let explorer = ExplorerTests()
        let account = try explorer.dom(node.url + "/account/\(me)")
        #expect(account.contains("id=\"ious\"") && account.contains("5.00 MiB") && account.contains("&lt;b&gt;fee&lt;/b&gt;"))
        #expect(explorer.links(account).contains("/graph/\(me)"))
        let graph = try explorer.dom(node.url + "/graph/\(me)")
        #expect(graph.contains("<svg") && graph.contains("id=\"credit-graph\"") && graph.contains("2.00 GiB/5.00 MiB"))
    }
}
