import Foundation
import Testing

/// The database MiMei against a real Redis (specs/content.md §Database MiMei): one command script
/// (Tests/fixtures/redis-script.txt: strings, hashes, lists, sets, sorted sets, transactions and their
/// errors) is run by redis-cli (Debian's redis-tools) against `ledgerd run --redis` and against Debian's
/// redis-server, and every reply is compared. Then: writes become versions that a second node syncs and
/// serves read-only, following the author's next version; a capability reads and cannot write; a client
/// that has not authenticated, or sends garbage, gets Redis's errors and the node keeps running.
@Suite(.serialized) struct RedisCompatibilityTests {
    static let redisServer = "/usr/bin/redis-server", redisCLI = "/usr/bin/redis-cli"

    static func redisPort(_ node: NodeProcess) throws -> Int {
        let text = (try? String(contentsOfFile: node.data + "/redis.address", encoding: .utf8)) ?? ""
        guard let port = Int(text.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            throw TestFailure("no redis.address in \(node.data)")
        }
        return port
    }

    /// redis-cli with commands on standard input (its raw output: one line per reply element).
    static func cli(_ port: Int, password: String?, _ commands: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: redisCLI)
        process.arguments = ["-p", "\(port)"] + (password.map { ["-a", $0, "--no-auth-warning"] } ?? [])
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(commands.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A redis-server on a free loopback port, with nothing saved, and the same password.
    static func startRedis(password: String) throws -> (Process, Int) {
        for _ in 0..<20 {
            let port = Int.random(in: 20_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: redisServer)
            process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password,
                                 "--dir", Paths.temporaryFolder("redis-server")]
            // Nothing inherited: a server left holding the test runner's output would keep it waiting.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<50 {
                if (try? cli(port, password: password, "PING\n"))?.hasPrefix("PONG") == true { return (process, port) }
                if !process.isRunning { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            if process.isRunning { process.terminate() }
        }
        throw TestFailure("redis-server did not start")
    }

    @Test func everyReplyMatchesRedisServersAndVersionsAreSyncedAndFollowed() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.redisServer), "redis-server is not installed; `make test` installs it")
        let a = try NodeProcess(name: "redis-a")
        try a.start(extra: ["--redis", "127.0.0.1:0"])
        defer { a.stop() }
        let password = try a.cookie(), port = try Self.redisPort(a)
        let script = try String(contentsOfFile: Paths.root.appendingPathComponent("Tests/fixtures/redis-script.txt").path, encoding: .utf8)
        let (redis, redisPort) = try Self.startRedis(password: password)
        defer {
            kill(redis.processIdentifier, SIGKILL)
            redis.waitUntilExit()
        }
        let theirs = try Self.cli(redisPort, password: password, script), ours = try Self.cli(port, password: password, script)
        let expected = theirs.split(separator: "\n", omittingEmptySubsequences: false), got = ours.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(expected.count > 150)
        for (index, line) in expected.enumerated() where index >= got.count || got[index] != line {
            Issue.record("reply line \(index + 1): redis-server \"\(line)\", ledgerd \"\(index < got.count ? got[index] : "nothing")\"")
            break
        }
        #expect(got.count == expected.count)

        // Unauthenticated, wrong password, garbage: Redis's answers, and the node goes on.
        #expect(try Self.cli(port, password: nil, "GET greeting\n").contains("NOAUTH Authentication required."))
        #expect(try Self.cli(port, password: "wrong", "GET greeting\n").contains("WRONGPASS"))
        let garbage = try run("/usr/bin/env", ["python3", "-c", """
            import socket; s = socket.create_connection(("127.0.0.1", \(port))); s.sendall(b"*1\\r\\n$x\\r\\n"); print(s.recv(200).decode())
            """])
        #expect(garbage.output.contains("Protocol error"), "\(garbage.output) \(garbage.error)")
        #expect(try Self.cli(port, password: password, "PING\n").hasPrefix("PONG"))

        // Writes become versions of database 0's MiMei: each pulse's, and each transaction at once.
        func version() throws -> Int { ((try a.ctlJSON(["mimei", "db", "list"])["databases"] as? [[String: Any]])?.first?["version"] as? NSNumber)?.intValue ?? 0 }
        let beforeTransaction = try version()
        #expect(try Self.cli(port, password: password, "MULTI\nSET final yes\nHSET profile name ada\nRPUSH log one two\nEXEC\n") == "OK\nQUEUED\nQUEUED\nQUEUED\nOK\n1\n2\n")
        #expect(try version() > beforeTransaction, "EXEC commits a version at once")
        let databases = try a.ctlJSON(["mimei", "db", "list"])["databases"] as? [[String: Any]] ?? []
        let mid = try #require(databases.first?["mid"] as? String)
        #expect(try a.ctl(["mimei", "db", "get", "final"]).output.contains("\"yes\""))

        // A second node syncs the database MiMei, serves it read-only under its own number, and follows.
        let b = try NodeProcess(name: "redis-b", genesisOf: a)
        try b.start(extra: ["--redis", "127.0.0.1:0", "--bootstrap", a.p2pAddress])
        defer { b.stop() }
        #expect(try a.ctl(["mimei", "publish", mid]).status == 0)
        let synced = try b.ctl(["mimei", "sync", mid])
        #expect(synced.status == 0, "\(synced.error)")
        #expect(try b.ctl(["mimei", "db", "attach", mid, "--number", "1"]).status == 0)
        let bPort = try Self.redisPort(b), bPassword = try b.cookie()
        let read = try Self.cli(bPort, password: bPassword, "SELECT 1\nGET final\nHGETALL profile\nLRANGE log 0 -1\nSET final no\n")
        #expect(read.trimmingCharacters(in: .newlines) == "OK\nyes\nname\nada\none\ntwo\nREADONLY this database MiMei is another author's; it follows their versions", "\(read)")
        let beforeAgain = try version()
        _ = try Self.cli(port, password: password, "MULTI\nSET final again\nEXEC\n")
        #expect(try version() > beforeAgain)
        #expect(try a.ctl(["mimei", "publish", mid]).status == 0)
        // B takes the new version (as its follower does every 10 s) and serves it at once.
        let again = try b.ctl(["mimei", "sync", mid])
        #expect(again.status == 0, "\(again.error)")
        try await P2PNetworkTests.waitUntil("B serves A's next version") {
            try Self.cli(bPort, password: bPassword, "SELECT 1\nGET final\n") == "OK\nagain\n"
        }

        // A private database: a bearer capability reads it, and cannot write.
        let created = try a.ctlJSON(["mimei", "db", "create", "--private", "--number", "7"])
        let secret = try #require(created["mid"] as? String)
        _ = try Self.cli(port, password: password, "SELECT 7\nSET secret 42\n")
        let capability = try a.ctl(["mimei", "grant", secret, "--bearer"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let reader = try Self.cli(port, password: capability, "GET secret\nSELECT 7\nGET secret\nSET secret 0\nSELECT 0\n")
        // (redis-cli prints an empty line after each error.)
        let lines = reader.split(separator: "\n").map(String.init)
        #expect(lines == ["NOPERM this capability is for another database; SELECT its number first", "OK", "42",
                          "NOPERM this user has no permissions to run the 'set' command", "NOPERM this capability is for another database"], "\(reader)")
    }
}
