import Foundation

/// Issue 12's database bar: Debian's redis-benchmark (50 clients, no pipelining) GET and SET against the
/// database MiMei (`ledgerd run --redis`, every pulse's writes a new version) and against Debian's
/// redis-server (no persistence) in the same run, as ratios (goal ≥ 0.3: every write is versioned).
enum DatabaseBenchmarks {
    static func run(_ report: inout Report, binaries: String, quick: Bool) {
        let requests = quick ? 20_000 : 100_000
        let figures: [String: Double]
        do { figures = try measure(binaries: binaries, requests: requests) } catch {
            for key in ["redis_set_to_redis_server", "redis_get_to_redis_server"] { report.fail(key.replacingOccurrences(of: "_", with: " "), "\(error)", key: key) }
            return
        }
        for test in ["SET", "GET"] {
            let ours = figures["ledgerd \(test)"] ?? .nan, theirs = figures["redis \(test)"] ?? .nan, key = test.lowercased()
            report.add("Database MiMei under redis-benchmark, \(test)", "\(formatted(ours)) requests/s",
                       "redis-benchmark -t \(key) -n \(requests) -c 50; redis-server: \(formatted(theirs)) requests/s (no persistence)",
                       key: "redis_\(key)_requests_per_second", ours)
            report.add("  ratio to redis-server (goal ≥ 0.3)", formatted(ours / theirs, decimals: 2), "", key: "redis_\(key)_to_redis_server", ours / theirs)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func measure(binaries: String, requests: Int) throws -> [String: Double] {
        for tool in ["/usr/bin/redis-server", "/usr/bin/redis-benchmark"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw Failure(description: "\(tool) is not installed (scripts/install-deps.sh --test installs redis-server and redis-tools)")
        }
        let work = NSTemporaryDirectory() + "ledger-bench-redis-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let data = work + "/node"
        guard try ContentBenchmarks.runProcess(binaries + "/ledgerd", ["init", "--data", data]).status == 0 else { throw Failure(description: "ledgerd init failed") }
        let node = Process()
        node.executableURL = URL(fileURLWithPath: binaries + "/ledgerd")
        node.arguments = ["run", "--data", data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0", "--redis", "127.0.0.1:0"]
        node.standardOutput = FileHandle.nullDevice
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer {
            node.terminate()
            node.waitUntilExit()
        }
        var port = 0
        for _ in 0..<300 where port == 0 {
            if let text = try? String(contentsOfFile: data + "/redis.address", encoding: .utf8), let found = Int(text.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") {
                port = found
            } else { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard port > 0 else { throw Failure(description: "ledgerd did not open its Redis port") }
        let password = try String(contentsOfFile: data + "/.cookie", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let redisPort = 20_000 + Int.random(in: 0..<30_000)
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        redis.arguments = ["--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password, "--dir", work]
        redis.standardOutput = FileHandle.nullDevice
        redis.standardError = FileHandle.nullDevice
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try redis.run()
        defer {
            kill(redis.processIdentifier, SIGKILL)
            redis.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 0.5)
        var figures: [String: Double] = [:]
        for (name, target) in [("ledgerd", port), ("redis", redisPort)] {
            let result = try ContentBenchmarks.runProcess("/usr/bin/redis-benchmark", ["-p", "\(target)", "-a", password, "-t", "set,get", "-n", "\(requests)",
                                                                                      "-c", "50", "--csv"])
            for line in result.output.split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                guard fields.count >= 2, let rps = Double(fields[1]), ["SET", "GET"].contains(fields[0]) else { continue }
                figures["\(name) \(fields[0])"] = rps
            }
            guard figures["\(name) SET"] != nil, figures["\(name) GET"] != nil else {
                throw Failure(description: "redis-benchmark against \(name) printed no figures: \(result.output.suffix(300))")
            }
        }
        return figures
    }
}
