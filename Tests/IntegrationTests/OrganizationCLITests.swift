import Foundation
import Testing
import Ledger

/// Issue 4 end to end: an organization with a contract, rewards by vote, income split at once,
/// dividends and CSV, an audit by replaying the chain, and the pages in Chromium.
@Suite(.serialized) struct OrganizationCLITests {
    @Test func contractsVotesIncomeAuditAndPages() async throws {
        let node = try NodeProcess(name: "org-cli")
        try node.start()
        defer { node.stop() }
        for name in ["alice", "bob", "carol"] {
            _ = try node.ctlJSON(["key", "new", name])
            _ = try node.ctlJSON(["transfer", "--to", name, "--amount", "1GiB"])
        }
        let created = try node.ctlJSON(["org", "create", "--name", "Open Video", "--split", "supervisor=30,member=20,prorata=40,chain=10",
                                        "--key-name", "ov"])
        let org = try #require(created["organization"] as? String)
        for name in ["alice", "bob"] {
            _ = try node.ctlJSON(["org", "join", "ov", "--as", name])
            _ = try node.ctlJSON(["org", "approve", "ov", name])
        }
        _ = try node.ctlJSON(["org", "introduce", "ov", "carol", "--as", "alice"])
        #expect((try node.ctlJSON(["org", "members", "ov"])["members"] as? [[String: Any]])?.count == 4)

        // A structural reward passes with two of three votes; a second vote by the same member fails.
        let proposed = try node.ctlJSON(["org", "propose", "ov", "--reward", "--to", "alice", "--amount", "600", "--reason", "wrote the player", "--proof", "commit 4e1f"])
        #expect(proposed["proposal"] as? Int == 1)
        _ = try node.ctlJSON(["org", "vote", "ov", "1", "--yes"])
        let twice = try node.ctl(["org", "vote", "ov", "1", "--yes"])
        #expect(twice.status != 0 && twice.error.contains("already voted"))
        _ = try node.ctlJSON(["org", "vote", "ov", "1", "--yes", "--as", "alice"])
        _ = try node.ctlJSON(["org", "token", "transfer", "ov", "--to", "bob", "--amount", "200", "--as", "alice"])
        _ = try node.ctlJSON(["org", "contribute", "ov", "--reference", "video-42", "--contributor", "carol", "--role", "collector", "--weight", "3"])

        // Income is split in the same block; every unit is accounted for.
        let before = try node.ctlJSON(["account", "show", "carol"])["balance"] as? Int ?? 0
        _ = try node.ctlJSON(["org", "income", "ov", "--amount", "1MiB", "--reference", "video-42", "--as", "carol"])
        _ = try node.ctlJSON(["org", "income", "ov", "--amount", "3MiB", "--reference", "ad-7", "--as", "bob"])
        let after = try node.ctlJSON(["account", "show", "carol"])["balance"] as? Int ?? 0
        #expect(after - before == -(1 << 20) + (1 << 20) / 10, "carol paid 1 MiB and earned the 10 % value chain share")
        let event = try await HTTP.get(node.url + "/api/v1/organizations/\(org)/income/1").json
        let payouts = event["payouts"] as? [[String: Any]] ?? []
        #expect(payouts.reduce(0) { $0 + ($1["amount"] as? Int ?? 0) } + (event["remainder"] as? Int ?? 0) == 1 << 20)
        #expect((event["audit"] as? [String: Any])?["verified"] as? Bool == true)
        let balanceProofs = event["balance_proofs"] as? [[String: Any]] ?? []
        #expect(!balanceProofs.isEmpty && balanceProofs.allSatisfy { $0["proven"] as? Bool == true })

        // Dividends and the CSV export.
        let csvPath = node.data + "/dividends.csv"
        let dividends = try node.ctlJSON(["org", "dividends", "ov", "--csv", csvPath])
        #expect((dividends["dividends"] as? [[String: Any]])?.isEmpty == false)
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        #expect(csv.hasPrefix("event,height,recipient,amount_bytes\n") && csv.split(separator: "\n").count >= 5)

        // The audit replays the chain and finds both events verified.
        let audit = try node.ctlJSON(["org", "audit", "ov"])
        #expect(audit["mismatches"] as? Int == 0 && (audit["events"] as? [[String: Any]])?.count == 2)

        // A new contract by vote applies to later income only.
        _ = try node.ctlJSON(["org", "propose", "ov", "--split", "supervisor=100"])
        _ = try node.ctlJSON(["org", "vote", "ov", "2", "--yes"])
        _ = try node.ctlJSON(["org", "vote", "ov", "2", "--yes", "--as", "bob"])
        _ = try node.ctlJSON(["org", "income", "ov", "--amount", "1MiB", "--as", "carol"])
        let third = try await HTTP.get(node.url + "/api/v1/organizations/\(org)/income/3").json
        #expect(third["contract_version"] as? Int == 2)
        #expect(try await HTTP.get(node.url + "/api/v1/organizations/\(org)/income/1").json["contract_version"] as? Int == 1)

        // The pages: contract, charts, audit results, split table.
        let explorer = ExplorerTests()
        let page = try explorer.dom(node.url + "/org/\(org)")
        for fragment in ["id=\"contract-summary\"", "30.00 % to supervisors", "id=\"income-chart\"", "id=\"dividend-chart\"", "id=\"holders\"",
                         "id=\"proposals\"", ">verified<", "dividends.csv"] {
            #expect(page.contains(fragment), "organization page lacks \(fragment)")
        }
        #expect(!page.contains("NOT verified"))
        let eventPage = try explorer.dom(node.url + "/org/\(org)/income/1")
        #expect(eventPage.contains("id=\"split\"") && eventPage.contains("Verified: the split recomputed") && eventPage.contains("id=\"balance-proofs\""))
        #expect(!eventPage.contains("NOT proven"))
        let bad = try node.ctl(["org", "propose", "ov", "--split", "supervisor=80,member=30"])
        #expect(bad.status != 0 && bad.error.contains("more than 100 %"))
    }
}
