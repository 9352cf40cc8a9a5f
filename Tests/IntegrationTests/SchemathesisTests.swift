import Foundation
import Testing

/// Property-based conformance of the HTTP API to specs/openapi.yaml: schemathesis (pinned in
/// scripts/install-deps.sh, in .build/api-venv) generates valid and invalid requests for every operation
/// and checks each answer against the spec — no 5xx, only documented status codes and content types, and
/// every body valid against its schema. It runs against a real `ledgerd` with some ledger content, with
/// the admin token, so the admin routes are exercised too.
///
/// The budget is `LEDGERD_SCHEMATHESIS_EXAMPLES` test cases per operation (default 30, well under two
/// minutes here; `make fuzz` sets 200). `LEDGERD_SCHEMATHESIS_SEED` replays a run (default: a fixed seed,
/// so `make test` is reproducible).
@Suite struct SchemathesisTests {
    static let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

    /// Runs a program to completion in `directory` (schemathesis keeps a `.schemathesis` cache in its
    /// working directory: the node's temporary one, not the repository).
    static func run(in directory: String, _ program: String, _ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        // One pipe for both streams, read before waiting, so that a full pipe cannot block it.
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self), error: "")
    }

    @Test func theAPIConformsToItsSpecUnderGeneratedRequests() throws {
        let schemathesis = Paths.root.appendingPathComponent(".build/api-venv/bin/schemathesis").path
        guard FileManager.default.isExecutableFile(atPath: schemathesis) else {
            Issue.record("schemathesis is not installed; run ./scripts/install-deps.sh --test")
            return
        }
        let environment = ProcessInfo.processInfo.environment
        let examples = environment["LEDGERD_SCHEMATHESIS_EXAMPLES"].flatMap(Int.init) ?? 30
        let seed = environment["LEDGERD_SCHEMATHESIS_SEED"].flatMap(Int.init) ?? 2026

        // A CID it lacks waits for peers it does not have: one second, not a minute, per request.
        let node = try NodeProcess(name: "schemathesis")
        try node.start(extra: ["--fetch-timeout", "1"])
        defer { node.stop() }
        _ = try node.ctlJSON(["key", "new", "alice"])
        let created = try node.ctlJSON(["org", "create", "--name", "Fuzzed Org", "--split", "supervisor=50,prorata=50"])
        _ = try node.ctlJSON(["org", "income", created["organization"] as! String, "--amount", "1MiB"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "1GiB"])
        _ = try node.ctlJSON(["credit", "grant", "--to", "node", "--limit", "1GiB", "--as", "alice"])
        _ = try node.ctlJSON(["transfer", "--to", "alice", "--amount", "100MiB"])
        _ = try node.ctlJSON(["iou", "issue", "--to", "node", "--amount", "1MiB", "--as", "alice"])

        let reports = node.data + "/schemathesis"
        let result = try Self.run(in: node.data, schemathesis, [
            "run", Paths.root.appendingPathComponent("specs/openapi.yaml").path, "--url", node.url,
            "--checks", Self.checks, "--max-examples", String(examples), "--seed", String(seed),
            "--header", "Authorization: Bearer \(try node.cookie())", "--workers", "2", "--request-timeout", "20",
            "--generation-database", "none", "--report", "junit", "--report-dir", reports, "--no-color",
            // Hypothesis's generation-speed health check only: a loaded CI machine must not fail the run for being slow.
            "--suppress-health-check", "too_slow",
        ])
        // The node survived everything it was sent.
        #expect(node.process?.isRunning == true, "ledgerd died under schemathesis: \(node.log().suffix(2000))")
        #expect(result.status == 0, "schemathesis found failures (seed \(seed)):\n\(result.output.suffix(12_000))\(result.error.suffix(2000))")
        #expect(!result.output.contains("FAILURES"), "\(result.output.suffix(12_000))")
    }
}

