import Foundation
import Testing
import Ledger

/// specs/openapi.yaml matches what a running node serves: every documented route answers, and each JSON
/// answer — successes and errors — validates against its documented schema (Tests/crosscheck/openapi_check.py,
/// with PyYAML, jsonschema and openapi-spec-validator, which `make test` installs when missing).
@Suite struct OpenAPITests {
    @Test func servedAPIMatchesTheSpec() throws {
        let node = try NodeProcess(name: "openapi")
        try node.start(extra: ["--fetch-timeout", "1"])
        defer { node.stop() }
        _ = try node.ctlJSON(["key", "new", "alice"])
        let created = try node.ctlJSON(["org", "create", "--name", "Spec Check", "--split", "supervisor=50,prorata=50"])
        _ = try node.ctlJSON(["org", "income", created["organization"] as! String, "--amount", "1MiB"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "1GiB"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "node", "--limit", "1GiB", "--as", "alice"])
        _ = try node.ctlJSON(["transfer", "--to", "alice", "--amount", "100MiB"])
        _ = try node.ctlJSON(["iou", "issue", "--to", "node", "--amount", "1MiB", "--as", "alice"])
        let receipt = node.data + "/r1.json"
        _ = try node.ctlJSON(["receipt", "sign", "--provider", "node", "--units", "2MiB", "--sequence", "1", "--out", receipt, "--as", "alice"])
        _ = try node.ctlJSON(["receipt", "settle", receipt])
        let content = node.data + "/content.bin"
        try Data((0..<3000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: content))
        _ = try node.ctlJSON(["contract", "storage", "create", "--provider", "alice", "--file", content, "--period", "100", "--periods", "2"])
        _ = try node.ctlJSON(["contract", "forward", "create", "--relay", "alice", "--price-ppm", "1000"])
        let result = try run("/usr/bin/env", ["python3", Paths.root.appendingPathComponent("Tests/crosscheck/openapi_check.py").path,
                                              node.url, try node.cookie(), Paths.root.appendingPathComponent("specs/openapi.yaml").path])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains(", 0 failed"), "\(result.output)")
    }

    @Test func aSecondDaemonOnTheSameDataIsRefused() throws {
        let node = try NodeProcess(name: "lock")
        try node.start()
        defer { node.stop() }
        let second = try run(Paths.ledgerd, ["run", "--data", node.data, "--http", "127.0.0.1:0"])
        #expect(second.status != 0 && second.error.contains("another ledgerd is already using"), "\(second.error)")
        let verify = try run(Paths.ledgerd, ["verify", "--data", node.data])
        #expect(verify.status != 0)
        // The first node is unharmed.
        #expect(try node.ctlJSON(["status"])["height"] as? Int == 0)
    }
}
