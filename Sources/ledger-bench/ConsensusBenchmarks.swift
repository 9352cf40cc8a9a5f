import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Storage
import Synchronization

/// Issue 10's bars: four `ledgerd` bookkeepers on loopback (release binaries, `ledgerd testnet`) taking
/// signed transfers through their APIs — committed transfers per second at saturation against the
/// single-node pipeline measured here on one core, submit-to-commit latency in pulses at half that rate,
/// signature verifications per committed transfer per node, a bookkeeper's resident memory under load —
/// and the simulation's seeds and heights per minute.
enum ConsensusBenchmarks {
    static func run(_ report: inout Report, binaries: String, quick: Bool) throws {
        try simulation(&report, quick: quick)
        let reference = try pipeline(&report, quick: quick)
        do { try network(&report, binaries: binaries, quick: quick, reference: reference) } catch {
            report.fail("Four bookkeepers: committed transfers per second", "\(error)", key: "bft_committed_per_second")
        }
    }

    // MARK: - The simulation

    static func simulation(_ report: inout Report, quick: Bool) throws {
        let seeds = quick ? 50 : 300
        var heights: UInt64 = 0, violations = 0
        let elapsed = seconds {
            for seed in 1...UInt64(seeds) {
                let result = ConsensusSimulation.run(seed: 1_000_000 + seed)
                heights += result.heights
                violations += result.violations.count
            }
        }
        guard violations == 0 else {
            report.fail("Simulation: seeds per minute", "\(violations) violation(s) in \(seeds) seeds: replay with make sim", key: "sim_seeds_per_minute")
            return
        }
        report.add("Simulation: seeds per minute, one core", formatted(Double(seeds) / elapsed * 60),
                   "\(seeds) seeds (4–7 bookkeepers, up to f Byzantine, drops, partitions, crashes), 0 violations; make test runs 1,000 per CI run (goal ≥ 1,000)",
                   key: "sim_seeds_per_minute", Double(seeds) / elapsed * 60)
        report.add("Simulation: simulated heights per minute", formatted(Double(heights) / elapsed * 60), "decided by every honest bookkeeper",
                   key: "sim_heights_per_minute", Double(heights) / elapsed * 60)
    }

    // MARK: - The reference: one node's verify, apply and store, on one core

    static func pipeline(_ report: inout Report, quick: Bool) throws -> Double {
        let count = quick ? 4_000 : 16_000
        let payers = (0..<4).map { try! SecretKey(bytes: SHA256.hash(Array("bench payer \($0)".utf8)).bytes) }
        let payee = try SecretKey(bytes: SHA256.hash(Array("bench payee".utf8)).bytes)
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let built = try Genesis.development(chainID: "bench-pipeline", timeMillis: 0, bookkeeper: payers[0].publicKey,
                                            balances: payers.map { ($0.publicKey.id, 1 << 40) }).build()
        let transfers = (0..<count).map { index -> SignedTransaction in
            let payer = payers[index % 4]
            let tx = Transaction(chain: "bench-pipeline", type: TransferRule.type, signers: [payer.publicKey, payee.publicKey], nonce: UInt64(index / 4),
                                 expiry: .max, body: TransferRule.body(to: payee.publicKey.id, amount: 1))
            return SignedTransaction(transaction: tx, keys: [payer, payee])
        }
        let folder = NSTemporaryDirectory() + "ledger-bench-pipeline-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try LedgerStore(path: folder + "/ledger.sqlite", create: true)
        try store.initialize(genesis: built.block, state: built.state)
        var header = built.block.header, state = built.state
        var lastCommit: CommitCertificate?
        let elapsed = try seconds {
            for start in stride(from: 0, to: count, by: 1_000) {
                // What a node does with transfers it did not see before: verify both signatures, apply, store.
                let batch = Array(transfers[start..<min(start + 1_000, count)])
                guard let made = Chain.propose(batch, after: header, lastCommit: lastCommit, state: state, machine: machine,
                                               timeMillis: (header.pulse + 1) * 1000, proposer: payers[0].publicKey.id, verifySignatures: true)
                else { throw BenchHTTPClient.Failure(description: "no transfer applied") }
                let block = made.block.certified(by: [payers[0]])
                try store.append(block, applied: made.applied)
                header = block.header
                state = made.applied.state
                lastCommit = block.commit
            }
        }
        let rate = Double(count) / elapsed
        report.add("Reference: one node's pipeline (verify, apply, store), one core", "\(formatted(rate))/s",
                   "\(count) transfers of 2 signatures, blocks of 1,000, SQLite; the same code the bookkeepers run", key: "pipeline_per_second", rate)
        return rate
    }

    // MARK: - Four bookkeepers

    struct Node {
        let data: String
        let process: Process
        let url: String
        let cookie: String
        let key: SecretKey
    }

    static func network(_ report: inout Report, binaries: String, quick: Bool, reference: Double) throws {
        let ledgerd = binaries + "/ledgerd"
        guard FileManager.default.isExecutableFile(atPath: ledgerd) else {
            throw BenchHTTPClient.Failure(description: "\(ledgerd) is not built (make bench builds it)")
        }
        let dir = NSTemporaryDirectory() + "ledger-bench-bft-\(UUID().uuidString.prefix(8))"
        // LEDGERD_BENCH_KEEP=1 keeps the bookkeepers' data directories and logs for a look afterwards.
        defer { if ProcessInfo.processInfo.environment["LEDGERD_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } else { print("kept \(dir)") } }
        let testnet = try launch(ledgerd, ["testnet", "--nodes", "4", "--dir", dir], log: nil)
        testnet.waitUntilExit()
        guard testnet.terminationStatus == 0 else { throw BenchHTTPClient.Failure(description: "ledgerd testnet failed") }
        var nodes: [Node] = []
        defer { for node in nodes where node.process.isRunning { kill(node.process.processIdentifier, SIGTERM); node.process.waitUntilExit() } }
        for index in 0..<4 {
            let data = "\(dir)/node\(index)"
            let process = try launch(ledgerd, ["run", "--data", data, "--log-level", "info"], log: data + "/bench.log")
            let directory = DataDirectory(path: data)
            nodes.append(Node(data: data, process: process, url: "", cookie: try directory.readCookie(), key: try directory.loadKey("node")))
        }
        for (index, node) in nodes.enumerated() {
            var url = ""
            for _ in 0..<300 where url.isEmpty {
                url = (try? String(contentsOfFile: node.data + "/http.address", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                if url.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
            }
            guard !url.isEmpty else { throw BenchHTTPClient.Failure(description: "bookkeeper \(index) did not start") }
            nodes[index] = Node(data: node.data, process: node.process, url: url, cookie: node.cookie, key: node.key)
        }
        let clients = try nodes.map { try BenchHTTPClient(url: $0.url) }
        for _ in 0..<300 {
            let peers = clients.map { (try? $0.json("/api/v1/status")["peers"] as? Int) ?? 0 }
            if peers.allSatisfy({ $0 >= 3 }) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let genesis = try DataDirectory(path: nodes[0].data).readGenesis()
        let pulseMillis = Double(genesis.parameters.pulseMillis)
        let payee = try SecretKey(bytes: SHA256.hash(Array("bench payee".utf8)).bytes)
        func transfers(_ payer: SecretKey, from nonce: Int, count: Int) -> [[UInt8]] {
            (nonce..<(nonce + count)).map { nonce in
                let tx = Transaction(chain: genesis.chainID, type: TransferRule.type, signers: [payer.publicKey, payee.publicKey], nonce: UInt64(nonce),
                                     expiry: .max, body: TransferRule.body(to: payee.publicKey.id, amount: 1))
                return Array("{\"tx\":\"\(Hex.encode(SignedTransaction(transaction: tx, keys: [payer, payee]).encoded))\"}".utf8)
            }
        }
        func committed() -> Int {
            nodes.reduce(0) { total, node in total + ((try? clients[0].json("/api/v1/accounts/\(node.key.publicKey.id.text)")["nonce"] as? Int) ?? 0) }
        }
        func verifications() -> [Int] {
            clients.map { client in
                guard let answer = try? client.request("GET", "/metrics") else { return 0 }
                let text = String(decoding: answer.body, as: UTF8.self)
                return text.split(separator: "\n").first { $0.hasPrefix("ledgerd_signature_verifications_total ") }
                    .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            }
        }

        // Saturation: each payer's transfers through its own bookkeeper's API, as fast as they are taken.
        let perPayer = quick ? 1_000 : 5_000
        let bodies = nodes.map { transfers($0.key, from: 0, count: perPayer) }
        let verifiedBefore = verifications()
        let rejected = Atomic<Int>(0)
        let submitters = try nodes.map { try BenchHTTPClient(url: $0.url) }
        let cookies = nodes.map(\.cookie)
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            for body in bodies[index] {
                let answer = try? submitters[index].request("POST", "/api/v1/admin/transactions", body: body,
                                                             headers: ["Authorization": "Bearer \(cookies[index])", "Content-Type": "application/json"])
                if answer?.status != 202 { rejected.add(1, ordering: .relaxed) }
            }
        }
        let total = 4 * perPayer - rejected.load(ordering: .relaxed)
        var peakRSS = 0
        let deadline = Date().addingTimeInterval(120)
        while committed() < total && Date() < deadline {
            peakRSS = max(peakRSS, nodes.map { rss($0.process.processIdentifier) }.max() ?? 0)
            Thread.sleep(forTimeInterval: 0.05)
        }
        let elapsed = Date().timeIntervalSince(start)
        let done = committed()
        guard done >= total, total > 0 else {
            let statuses = clients.map { client in (try? client.json("/api/v1/status")).map { "height \($0["height"] ?? "?"), mempool \($0["mempool"] ?? "?"), peers \($0["peers"] ?? "?")" } ?? "no answer" }
            throw BenchHTTPClient.Failure(description: "only \(done) of \(total) transfers committed within 120 s (\(rejected.load(ordering: .relaxed)) rejected at submission; bookkeepers: \(statuses.joined(separator: "; ")))")
        }
        let rate = Double(total) / elapsed
        let ceiling = reference * Double(ProcessInfo.processInfo.activeProcessorCount) / 4
        report.add("Four bookkeepers: committed transfers per second at saturation", "\(formatted(rate))/s",
                   "\(total) transfers submitted through the four APIs at once, until all committed; goal ≥ 2,000/s", key: "bft_committed_per_second", rate)
        report.add("  ratio to the ceiling C = reference × cores ÷ 4 (goal ≥ 0.7)", formatted(rate / ceiling, decimals: 3),
                   "C = \(formatted(ceiling))/s on \(ProcessInfo.processInfo.activeProcessorCount) cores: every bookkeeper runs the whole pipeline",
                   key: "bft_committed_to_ceiling", rate / ceiling)
        let verifiedAfter = verifications()
        let perTransaction = zip(verifiedAfter, verifiedBefore).map { Double($0 - $1) / Double(total) }
        report.add("Signature verifications per committed transfer, per node (goal: 2, its signature count)",
                   perTransaction.map { formatted($0, decimals: 2) }.joined(separator: " / "),
                   "each node's ledgerd_signature_verifications_total over the saturation run ÷ transfers committed; votes included",
                   key: "bft_verifications_per_transfer", perTransaction)
        if peakRSS > 0 {
            report.add("A bookkeeper's resident memory under that load (goal ≤ 100 MB)", "\(formatted(Double(peakRSS) / 1_000_000, decimals: 1)) MB",
                       "largest VmRSS of the four, sampled every 50 ms", key: "bft_bookkeeper_rss_bytes", peakRSS)
        } else {
            report.fail("A bookkeeper's resident memory under that load", "no VmRSS in /proc", key: "bft_bookkeeper_rss_bytes")
        }

        // Latency at half the saturation rate: each submission timed, each height's first sighting timed.
        let seconds = quick ? 5.0 : 10.0
        let perSecond = max(1.0, rate / 2 / 4)
        let count = Int(perSecond * seconds)
        let more = nodes.map { transfers($0.key, from: perPayer, count: count) }
        let heightSeen = Mutex<[Int: Date]>([:])
        let stop = Atomic<Bool>(false)
        let watcher = try BenchHTTPClient(url: nodes[0].url)
        let watch = Thread {
            while !stop.load(ordering: .relaxed) {
                if let height = try? watcher.json("/api/v1/status")["height"] as? Int {
                    heightSeen.withLock { if $0[height] == nil { $0[height] = Date() } }
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        watch.start()
        let submitted = Mutex<[(String, Date)]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let begin = Date()
            for (offset, body) in more[index].enumerated() {
                let due = begin.addingTimeInterval(Double(offset) / perSecond)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                let sentAt = Date()
                guard let answer = try? submitters[index].request("POST", "/api/v1/admin/transactions", body: body,
                                                                   headers: ["Authorization": "Bearer \(cookies[index])", "Content-Type": "application/json"]),
                      answer.status == 202, let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any],
                      let id = object["id"] as? String else { continue }
                // Every tenth transaction's commit is looked up afterwards.
                if offset % 10 == 0 { submitted.withLock { $0.append((id, sentAt)) } }
            }
        }
        let expected = total + 4 * count
        let latencyDeadline = Date().addingTimeInterval(60)
        while committed() < expected && Date() < latencyDeadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.1)
        stop.store(true, ordering: .relaxed)
        let seen = heightSeen.withLock { $0 }
        var latencies: [Double] = []
        for (id, sentAt) in submitted.withLock({ $0 }) {
            guard let height = try? clients[1].json("/api/v1/transactions/\(id)")["height"] as? Int, let at = seen[height] else { continue }
            latencies.append(at.timeIntervalSince(sentAt) * 1000 / pulseMillis)
        }
        latencies.sort()
        guard latencies.count >= 10 else {
            report.fail("Submit-to-commit latency at half the saturation rate", "only \(latencies.count) sampled transfers committed", key: "bft_latency_pulses")
            return
        }
        let p50 = latencies[latencies.count / 2], p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        report.add("Submit-to-commit latency at half that rate, p50 (goal ≤ 1 pulse)", "\(formatted(p50, decimals: 2)) pulses",
                   "\(latencies.count) sampled of \(4 * count) transfers at \(formatted(perSecond * 4))/s; commit = first time node 0's status shows the height",
                   key: "bft_latency_p50_pulses", p50)
        report.add("  p99 (goal ≤ 2 pulses)", "\(formatted(p99, decimals: 2)) pulses", "pulse = \(Int(pulseMillis)) ms", key: "bft_latency_p99_pulses", p99)
    }

    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return (status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { $0.split(separator: " ").compactMap { Int($0) }.first } ?? 0) * 1024
    }

    static func launch(_ program: String, _ arguments: [String], log: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let log {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        try process.run()
        return process
    }
}
