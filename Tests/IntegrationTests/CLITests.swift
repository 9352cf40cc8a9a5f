import Foundation
import Testing
import Ledger

/// The newcomer's path through `ledgerctl` against a real `ledgerd` on loopback.
@Suite(.serialized) struct CLITests {
    @Test func organizationsCreditAndTransfersFromTheCommandLine() throws {
        let node = try NodeProcess(name: "cli")
        try node.start()
        defer { node.stop() }

        let status = try node.ctlJSON(["status"])
        #expect((status["height"] as? Int) == 0)
        let me = try node.ctlJSON(["key"])
        let alice = try node.ctlJSON(["key", "new", "alice"])
        _ = try node.ctlJSON(["key", "new", "bob"])
        #expect((try node.ctlJSON(["key", "list"])["keys"] as? [[String: Any]])?.count == 3)

        // An organization, with an application approved and a role changed.
        let created = try node.ctlJSON(["org", "create", "--name", "Open Video", "--description", "videos by their makers"])
        let org = try #require(created["organization"] as? String)
        #expect(created["height"] != nil)
        _ = try node.ctlJSON(["org", "join", org, "--as", "alice"])
        _ = try node.ctlJSON(["org", "approve", org, "alice", "--role", "member"])
        _ = try node.ctlJSON(["org", "role", org, "alice", "supervisor"])
        let shown = try node.ctlJSON(["org", "show", org])
        #expect(shown["id"] as? String == org && shown["name"] as? String == "Open Video")
        let members = try #require(shown["members"] as? [[String: Any]])
        #expect(Set(members.compactMap { $0["role"] as? String }) == ["supervisor"])
        #expect(members.count == 2)
        _ = try node.ctlJSON(["org", "join", org, "--as", "bob"])
        _ = try node.ctlJSON(["org", "reject", org, "bob"])
        _ = try node.ctlJSON(["org", "leave", org, "--as", "alice"])
        #expect(((try node.ctlJSON(["org", "list"])["organizations"] as? [[String: Any]])?.count) == 1)

        // A letter of credit granted, changed, listed, shown and revoked.
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "10GiB"])
        _ = try node.ctlJSON(["credit", "change", "--to", "alice", "--limit", "2GiB"])
        let line = try node.ctlJSON(["credit", "show", "node", "alice"])
        #expect(line["limit"] as? Int == 2 << 30 && line["from"] as? String == me["id"] as? String)
        #expect((try node.ctlJSON(["credit", "list"])["credit_lines"] as? [[String: Any]])?.count == 1)
        let aliceAccount = try node.ctlJSON(["account", "show", "alice"])
        #expect((aliceAccount["credit_received"] as? [[String: Any]])?.count == 1)
        let revoked = try node.ctlJSON(["credit", "revoke", "--to", "alice"])
        #expect(revoked["type"] as? String == "credit.revoke")
        #expect((try node.ctlJSON(["credit", "list", "--to", "alice"])["credit_lines"] as? [[String: Any]])?.isEmpty == true)

        // A transfer with both keys local, and one completed by the payee from a file.
        _ = try node.ctlJSON(["transfer", "--to", "alice", "--amount", "5GiB"])
        #expect(try node.ctlJSON(["account", "show", "alice"])["balance"] as? Int == 5 << 30)
        let bobKey = try node.ctlJSON(["key", "--as", "bob"])
        let half = node.data + "/half.json"
        let partial = try node.ctlJSON(["transfer", "--to", bobKey["id"] as! String, "--counterparty-key", bobKey["public_key"] as! String,
                                        "--amount", "1MiB", "--out", half, "--as", "alice"])
        #expect(partial["status"] as? String == "needs_signature")
        let completed = try node.ctlJSON(["tx", "sign", half, "--as", "bob"])
        #expect(completed["type"] as? String == "transfer")
        #expect(try node.ctlJSON(["account", "show", "bob"])["balance"] as? Int == 1 << 20)

        // Blocks, transactions and a locally verified proof.
        let block = try node.ctlJSON(["block", "show", "1"])
        #expect(block["height"] as? Int == 1 && (block["transactions"] as? [[String: Any]])?.first?["type"] as? String == "org.create")
        let tx = try node.ctlJSON(["tx", "show", completed["id"] as! String])
        #expect((tx["signers"] as? [[String: Any]])?.count == 2)
        let proof = try node.ctlJSON(["proof", "alice"])
        #expect(proof["verified"] as? Bool == true && proof["outcome"] as? String == "present")
        let absent = try node.ctlJSON(["proof", alice["id"] as! String, "--height", "1"])
        #expect(absent["outcome"] as? String == "absent")
        // The bookkeepers come from a genesis file the user holds, never from the node: against another
        // network's genesis the node's certificates prove nothing. A named header works instead of a genesis.
        let other = node.data + "/other-network"
        #expect(try run(Paths.ledgerd, ["init", "--data", other]).status == 0)
        // Same chain name, other bookkeeper: exactly what a lying node would claim.
        let chain = try node.ctlJSON(["status"])["chain"] as? String ?? ""
        let otherGenesis = try String(contentsOfFile: other + "/genesis.json", encoding: .utf8)
        let otherChain = otherGenesis.range(of: "ledgerd-dev-[0-9a-f]+", options: .regularExpression).map { String(otherGenesis[$0]) } ?? ""
        try otherGenesis.replacingOccurrences(of: otherChain, with: chain).write(toFile: other + "/genesis.json", atomically: true, encoding: .utf8)
        let foreign = try node.ctl(["proof", "alice", "--genesis", other + "/genesis.json"])
        #expect(foreign.status != 0 && foreign.error.contains("trusted") && foreign.error.split(separator: "\n").count == 1, "\(foreign.error)")
        let trusted = try node.ctlJSON(["proof", "alice", "--trust", "1:\(block["hash"] as? String ?? "")"])
        #expect(trusted["verified"] as? Bool == true)
        let wrong = try node.ctl(["proof", "alice", "--trust", "1:" + String(repeating: "ab", count: 32)])
        #expect(wrong.status != 0 && wrong.error.contains("not the trusted"))

        // The chain on disk replays cleanly.
        node.stop()
        let verify = try run(Paths.ledgerd, ["verify", "--data", node.data])
        #expect(verify.status == 0, "\(verify.error)")
        #expect(verify.output.contains("verified"))
    }

    @Test func badInputGetsOneLineAndANonZeroExit() throws {
        let node = try NodeProcess(name: "cli-bad")
        try node.start()
        defer { node.stop() }
        let cases: [[String]] = [
            ["status", "--no-such-flag"],
            ["account", "show", "ld1notanid"],
            ["org", "show", "ld1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqszsxkp"],
            ["transfer", "--to", "nobody", "--amount", "5"],
            ["transfer", "--to", "node", "--amount", "-5"],
            ["credit", "grant", "--to", "node", "--limit", "1GiB"],
            ["credit", "revoke", "--to", "ld1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqszsxkp"],
            ["org", "approve", "ld1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqszsxkp", "node", "--role", "king"],
            ["block", "show", "999"],
            ["tx", "show", "xyz"],
            ["key", "new", "../evil"],
            ["no-such-command"],
        ]
        let heightBefore = try node.ctlJSON(["status"])["height"] as? Int
        for arguments in cases {
            let result = try node.ctl(arguments)
            #expect(result.status != 0, "\(arguments) should fail")
            let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(lines.count == 1, "\(arguments): \(result.error)")
        }
        #expect(try node.ctlJSON(["status"])["height"] as? Int == heightBefore)
        // A node that is not there.
        let offline = try run(Paths.ledgerctl, ["status", "--node", "http://127.0.0.1:1"])
        #expect(offline.status != 0 && offline.error.contains("cannot reach the node"))
    }

    @Test func everyCommandHasHelpWithAnExample() throws {
        let commands: [[String]] = [
            ["status"], ["key", "show"], ["key", "new"], ["key", "list"], ["account", "show"], ["transfer"], ["org", "create"],
            ["org", "show"], ["org", "list"], ["org", "join"], ["org", "approve"], ["org", "reject"], ["org", "role"], ["org", "leave"],
            ["credit", "grant"], ["credit", "change"], ["credit", "revoke"], ["credit", "list"], ["credit", "show"], ["block", "show"],
            ["tx", "show"], ["tx", "sign"], ["proof"], ["verify"], ["bookkeeper", "list"], ["bookkeeper", "status"],
        ]
        for command in commands {
            let result = try run(Paths.ledgerctl, command + ["--help"])
            #expect(result.status == 0 && result.output.contains("Example:"), "ledgerctl \(command.joined(separator: " ")) --help")
        }
        for command in [["init"], ["run"], ["verify"], ["testnet"]] {
            let result = try run(Paths.ledgerd, command + ["--help"])
            #expect(result.status == 0 && result.output.contains("Example:"), "ledgerd \(command[0]) --help")
        }
    }
}
