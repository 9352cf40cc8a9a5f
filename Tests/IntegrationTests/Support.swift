import Foundation
import Testing
import Ledger
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Paths of the repository and of the binaries `swift build` made (tests run the real executables).
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var binaries: URL {
        if let override = ProcessInfo.processInfo.environment["LEDGERD_BIN_DIR"] { return URL(fileURLWithPath: override) }
        return root.appendingPathComponent(".build/debug")
    }
    static var ledgerd: String { binaries.appendingPathComponent("ledgerd").path }
    static var ledgerctl: String { binaries.appendingPathComponent("ledgerctl").path }

    static func temporaryFolder(_ name: String) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

struct ProcessResult {
    let status: Int32
    let output: String
    let error: String
    /// Standard output as bytes (binary output, `ipfs cat`).
    var outputData = Data()
}

/// Runs a program to completion and captures its output.
func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting, so a full pipe cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                         error: String(decoding: errData, as: UTF8.self), outputData: outData)
}

/// A real `ledgerd` process on a loopback port chosen by the OS.
final class NodeProcess: @unchecked Sendable {
    let data: String
    /// A network namespace (`ip netns`) the node and its ledgerctl run in; nil: this one.
    var namespace: String?
    private(set) var process: Process?
    private(set) var url = ""
    private var logHandle: FileHandle?
    var logPath: String { data + "/test-node.log" }

    /// A node whose data directory already exists (written by `ledgerd testnet`, say).
    init(data: String) {
        self.data = data
    }

    init(name: String, initialize: Bool = true, genesisOf other: NodeProcess? = nil) throws {
        data = Paths.temporaryFolder(name)
        if initialize {
            let genesis = other.map { ["--genesis", $0.data + "/genesis.json"] } ?? []
            let result = try run(Paths.ledgerd, ["init", "--data", data] + genesis)
            guard result.status == 0 else { throw TestFailure("ledgerd init failed: \(result.error)") }
        }
    }

    /// The libp2p address the node wrote at start (`/ip4/127.0.0.1/tcp/…/p2p/…`).
    var p2pAddress: String {
        ((try? String(contentsOfFile: data + "/p2p.address", encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
    }

    var peerID: String { String(p2pAddress.split(separator: "/").last ?? "") }

    /// Starts `ledgerd run` and waits until it has written its address. `configured` nodes take their
    /// ports from their ledgerd.toml; the others listen on free loopback ports.
    func start(extra: [String] = [], configured: Bool = false, environment: [String: String] = [:], waitForAddress: Bool = true) throws {
        try? FileManager.default.removeItem(atPath: data + "/http.address")
        try? FileManager.default.removeItem(atPath: data + "/p2p.address")
        // Every test node listens for peers on a free loopback port unless the test says otherwise.
        let extra = configured || extra.contains("--p2p") ? extra : ["--p2p", "127.0.0.1:0"] + extra
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logFile.seekToEndOfFile()
        let process = Process()
        let arguments = ["run", "--data", data] + (configured ? [] : ["--http", "127.0.0.1:0"]) + extra
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, Paths.ledgerd] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Paths.ledgerd)
            process.arguments = arguments
        }
        process.standardOutput = logFile
        process.standardError = logFile
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        try process.run()
        self.process = process
        self.logHandle = logFile
        guard waitForAddress else { return }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: data + "/http.address", encoding: .utf8), text.hasPrefix("http"),
               FileManager.default.fileExists(atPath: data + "/p2p.address") {
                url = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            guard process.isRunning else { throw TestFailure("ledgerd exited early: \(self.log())") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("ledgerd did not start within 30 s: \(self.log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return -1 }
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        self.process = nil
        try? logHandle?.close()
        return process.terminationStatus
    }

    deinit { if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    func ctl(_ arguments: [String]) throws -> ProcessResult {
        let arguments = arguments + ["--data", data, "--node", url]
        if let namespace { return try run("/usr/sbin/ip", ["netns", "exec", namespace, Paths.ledgerctl] + arguments) }
        return try run(Paths.ledgerctl, arguments)
    }

    /// Runs ledgerctl with --json and parses the object it prints; throws with its error line if it fails.
    func ctlJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try ctl(arguments + ["--json"])
        guard result.status == 0 else { throw TestFailure("ledgerctl \(arguments.joined(separator: " ")) failed: \(result.error)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw TestFailure("ledgerctl printed no JSON object: \(result.output)")
        }
        return object
    }

    func cookie() throws -> String {
        try String(contentsOfFile: data + "/.cookie", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func key(_ name: String) throws -> SecretKey {
        let text = try String(contentsOfFile: data + "/keys/\(name).key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try SecretKey(bytes: Hex.decode(text)!)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Minimal HTTP for tests: status and body.
enum HTTP {
    struct Answer {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func request(_ method: String, _ url: String, body: Data? = nil, token: String? = nil, headers extra: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, body: data, headers: headers)
    }

    static func get(_ url: String) async throws -> Answer { try await request("GET", url) }

    static func submit(_ node: NodeProcess, _ signed: SignedTransaction) async throws -> Answer {
        let body = try JSONSerialization.data(withJSONObject: ["tx": Hex.encode(signed.encoded)])
        return try await request("POST", node.url + "/api/v1/admin/transactions", body: body, token: try node.cookie())
    }

    /// Polls until the transaction is in a block.
    static func waitForInclusion(_ node: NodeProcess, _ id: Digest, seconds: Double = 15) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let answer = try await get(node.url + "/api/v1/transactions/\(id.hex)")
            if answer.status == 200 { return answer.json }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("transaction \(id) not included within \(seconds) s")
    }
}

/// Builds signed transactions for a node's chain from local keys, as a client would.
struct TransactionFactory {
    let chain: String
    var nonces: [ID: UInt64] = [:]

    mutating func make(_ type: String, _ body: CBOR, _ keys: [SecretKey], expiry: UInt64 = .max) -> SignedTransaction {
        let origin = keys[0].publicKey.id
        let tx = Transaction(chain: chain, type: type, signers: keys.map(\.publicKey), nonce: nonces[origin, default: 0], expiry: expiry, body: body)
        nonces[origin, default: 0] += 1
        return SignedTransaction(transaction: tx, keys: keys)
    }
}

/// Reads Tests/p2p/py_peer.py's JSON lines, one `{"step": …}` each, until it exits; when it says it is
/// listening, `node` dials it (ledgerd dialing the Python peer). Returns each step by name.
func pythonPeerSteps(_ reader: FileHandle, dialedBy node: NodeProcess) throws -> [String: [String: Any]] {
    var steps: [String: [String: Any]] = [:]
    var buffer = Data()
    while true {
        let chunk = reader.availableData  // blocks until there is output; empty only at its end
        if chunk.isEmpty { break }
        buffer += chunk
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[buffer.startIndex..<newline]
            buffer = Data(buffer[buffer.index(after: newline)...])
            guard let step = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let name = step["step"] as? String else { continue }
            steps[name] = step
            if name == "listening", let address = step["address"] as? String {
                let dialed = try node.ctl(["swarm", "connect", address])
                #expect(dialed.status == 0, "\(dialed.error)")
            }
        }
    }
    return steps
}
