import Foundation
import Testing
import Credit
import Ledger

/// The daemon under hostile input, crashes and shutdowns.
@Suite(.serialized) struct DaemonTests {
    @Test func hostileAPIRequestsAreRejectedAndChangeNothing() async throws {
        let node = try NodeProcess(name: "api-bad")
        try node.start()
        defer { node.stop() }
        let nodeKey = try node.key("node")
        let status = try await HTTP.get(node.url + "/api/v1/status").json
        var factory = TransactionFactory(chain: status["chain"] as! String)
        let stranger = SecretKey.generate()
        let root = status["state_root"] as! String
        let submitURL = node.url + "/api/v1/admin/transactions"
        let token = try node.cookie()

        func expectError(_ answer: HTTP.Answer, _ status: Int, _ code: String?) {
            #expect(answer.status == status, "\(answer.text)")
            let error = answer.json["error"] as? [String: Any]
            if let code { #expect(error?["code"] as? String == code, "\(answer.text)") }
            #expect((error?["message"] as? String)?.contains("\n") == false)
        }

        // No cookie, a wrong cookie.
        expectError(try await HTTP.request("POST", submitURL, body: Data("{}".utf8)), 401, "unauthorized")
        expectError(try await HTTP.request("POST", submitURL, body: Data("{}".utf8), token: "guess"), 401, "unauthorized")
        // Not JSON, not hex, not a transaction, truncated, oversized.
        expectError(try await HTTP.request("POST", submitURL, body: Data("garbage".utf8), token: token), 400, "bad_request")
        expectError(try await HTTP.request("POST", submitURL, body: Data("{\"tx\":\"zz\"}".utf8), token: token), 400, "bad_request")
        expectError(try await HTTP.request("POST", submitURL, body: Data("{\"tx\":\"a0\"}".utf8), token: token), 400, "malformed")
        let good = factory.make(TransferRule.type, TransferRule.body(to: stranger.publicKey.id, amount: 1), [nodeKey, stranger])
        let truncated = Hex.encode(good.encoded.dropLast(3))
        expectError(try await HTTP.request("POST", submitURL, body: Data("{\"tx\":\"\(truncated)\"}".utf8), token: token), 400, "malformed")
        let huge = String(repeating: "00", count: 40_000)
        let tooBig = try await HTTP.request("POST", submitURL, body: Data("{\"tx\":\"\(huge)\"}".utf8), token: token)
        #expect(tooBig.status == 413 || tooBig.status == 400)
        // A forged signature, an unknown type, the wrong chain.
        var forged = good
        forged.signatures[1] = nodeKey.sign(good.transaction.signingDigest)
        expectError(try await HTTP.submit(node, forged), 400, "bad_signature")
        var wrongChain = TransactionFactory(chain: "another-chain")
        expectError(try await HTTP.submit(node, wrongChain.make(TransferRule.type, TransferRule.body(to: stranger.publicKey.id, amount: 1), [nodeKey, stranger])), 400, "wrong_chain")
        var unknown = TransactionFactory(chain: factory.chain)
        expectError(try await HTTP.submit(node, unknown.make("mint", .map([:]), [nodeKey])), 400, "unknown_type")
        // Unknown and malformed IDs on the read API.
        expectError(try await HTTP.get(node.url + "/api/v1/accounts/ld1bad"), 400, "bad_request")
        expectError(try await HTTP.get(node.url + "/api/v1/organizations/\(stranger.publicKey.id.text)"), 404, "not_found")
        expectError(try await HTTP.get(node.url + "/api/v1/blocks/99999"), 404, "not_found")
        expectError(try await HTTP.get(node.url + "/api/v1/transactions/\(String(repeating: "ab", count: 32))"), 404, "not_found")
        expectError(try await HTTP.get(node.url + "/api/v1/blocks?limit=0"), 400, "bad_request")

        // Nothing changed; the node still serves; then a good transaction goes through once, and its replay fails.
        #expect(try await HTTP.get(node.url + "/api/v1/status").json["state_root"] as? String == root)
        #expect(try await HTTP.submit(node, good).status == 202)
        expectError(try await HTTP.submit(node, good), 400, "duplicate")
        _ = try await HTTP.waitForInclusion(node, good.id)
        expectError(try await HTTP.submit(node, good), 400, "duplicate")
        var replay = TransactionFactory(chain: factory.chain)  // nonce 0 again, different body
        expectError(try await HTTP.submit(node, replay.make(TransferRule.type, TransferRule.body(to: stranger.publicKey.id, amount: 2), [nodeKey, stranger])), 400, "bad_nonce")
    }

    /// Killing the process at random moments loses no committed block and leaves a store that opens
    /// and verifies. Seeded, so a failing schedule replays.
    @Test func killDashNineLosesNoCommittedBlock() async throws {
        let node = try NodeProcess(name: "crash")
        let nodeKey = try node.key("node")
        var generator = SeededGenerator(seed: 2026)
        var committed: [Digest] = []
        var factory: TransactionFactory? = nil
        for round in 0..<5 {
            try node.start()
            let status = try await HTTP.get(node.url + "/api/v1/status").json
            if factory == nil { factory = TransactionFactory(chain: status["chain"] as! String) }
            // Resynchronize the nonce: transactions pending at the kill were lost with the mempool.
            let account = try await HTTP.get(node.url + "/api/v1/accounts/\(nodeKey.publicKey.id.text)").json
            factory!.nonces[nodeKey.publicKey.id] = (account["nonce"] as! NSNumber).uint64Value
            // Everything committed before earlier kills is still there.
            for id in committed {
                #expect(try await HTTP.get(node.url + "/api/v1/transactions/\(id.hex)").status == 200, "round \(round): lost \(id)")
            }
            let payees = (0..<8).map { _ in SecretKey.generate() }
            var sent: [Digest] = []
            for payee in payees {
                let tx = factory!.make(TransferRule.type, TransferRule.body(to: payee.publicKey.id, amount: 1), [nodeKey, payee])
                if try await HTTP.submit(node, tx).status == 202 { sent.append(tx.id) }
            }
            // Wait for some of them, then kill at a random moment (possibly mid-block).
            if let first = sent.first { _ = try await HTTP.waitForInclusion(node, first) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...1500, using: &generator)))
            for id in sent where try await HTTP.get(node.url + "/api/v1/transactions/\(id.hex)").status == 200 { committed.append(id) }
            node.stop(signal: SIGKILL)
        }
        let verify = try run(Paths.ledgerd, ["verify", "--data", node.data])
        #expect(verify.status == 0, "\(verify.error)")
        #expect(committed.count >= 5)
    }

    @Test func sigtermAndSigintShutDownCleanly() throws {
        for signal in [SIGTERM, SIGINT] {
            let node = try NodeProcess(name: "shutdown")
            try node.start()
            #expect(node.stop(signal: signal) == 0)
            #expect(node.log().contains("stopped cleanly"))
            #expect(!FileManager.default.fileExists(atPath: node.data + "/http.address"))
        }
    }

    @Test func damagedOrForeignDatabasesAreRefusedAtStart() throws {
        // Overwrite the SQLite header: the file is no longer a database.
        let damaged = try NodeProcess(name: "damaged")
        let path = damaged.data + "/ledger.sqlite"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(repeating: 0x5a, count: 100))
        try handle.close()
        var result = try run(Paths.ledgerd, ["run", "--data", damaged.data, "--http", "127.0.0.1:0"])
        #expect(result.status != 0)
        #expect(result.error.contains("not a ledgerd database") || result.error.contains("damaged"), "\(result.error)")

        // A genesis file for another chain.
        let other = try NodeProcess(name: "wrong-genesis")
        let genesisPath = other.data + "/genesis.json"
        let text = try String(contentsOfFile: genesisPath, encoding: .utf8).replacingOccurrences(of: "ledgerd-dev-", with: "another-")
        try text.write(toFile: genesisPath, atomically: true, encoding: .utf8)
        result = try run(Paths.ledgerd, ["run", "--data", other.data, "--http", "127.0.0.1:0"])
        #expect(result.status != 0 && result.error.contains("genesis file names"), "\(result.error)")

        // No database at all, and a wrong flag.
        let empty = Paths.temporaryFolder("empty")
        result = try run(Paths.ledgerd, ["run", "--data", empty])
        #expect(result.status != 0 && result.error.contains("ledgerd init"), "\(result.error)")
        // A failure at run time is one line and exit 1, not the usage text and 64 of a wrong command line.
        #expect(result.status == 1 && !result.error.contains("USAGE") && result.error.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1,
                "\(result.status): \(result.error)")
        result = try run(Paths.ledgerd, ["run", "--http", "nonsense"])
        #expect(result.status == 64)
        result = try run(Paths.ledgerd, ["init", "--data", other.data])
        #expect(result.status == 1 && result.error.contains("already holds a ledger") && !result.error.contains("USAGE"))
    }

    @Test func everyToolFindsTheNodeUnderHOME() throws {
        // HOME elsewhere than the passwd home: ledgerd and ledgerctl both use $HOME/.ledgerd, as make run does.
        let home = Paths.temporaryFolder("home")
        let environment = ["HOME": home, "LEDGERD_DATA": ""]
        var result = try run(Paths.ledgerd, ["init"], environment: environment)
        #expect(result.status == 0, "\(result.error)")
        #expect(FileManager.default.fileExists(atPath: home + "/.ledgerd/genesis.json"))
        result = try run(Paths.ledgerctl, ["key", "new", "alice"], environment: environment)
        #expect(result.status == 0, "\(result.error)")
        #expect(FileManager.default.fileExists(atPath: home + "/.ledgerd/keys/alice.key"))
        let script = try String(contentsOfFile: Paths.root.path + "/scripts/run-local.sh", encoding: .utf8)
        #expect(script.contains("${HOME:-"), "make run takes the data directory from the same rule")
    }

    @Test func metricsAreExposedForPrometheus() async throws {
        let node = try NodeProcess(name: "metrics")
        try node.start()
        defer { node.stop() }
        var factory = TransactionFactory(chain: try await HTTP.get(node.url + "/api/v1/status").json["chain"] as! String)
        let tx = factory.make(CreditRules.grant, CreditRules.lineBody(to: SecretKey.generate().publicKey.id, limit: 5, expiry: .max), [try node.key("node")])
        #expect(try await HTTP.submit(node, tx).status == 202)
        _ = try await HTTP.waitForInclusion(node, tx.id)
        let metrics = try await HTTP.get(node.url + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("ledgerd_blocks_sealed_total 1"))
        #expect(metrics.text.contains("ledgerd_chain_height 1"))
        #expect(metrics.text.contains("ledgerd_transactions_committed_total 1"))
    }
}

