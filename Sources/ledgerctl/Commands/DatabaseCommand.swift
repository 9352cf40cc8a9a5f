import ArgumentParser
import Foundation
import Ledger
import Storage

/// `ledgerctl mimei db`: the database MiMei for scripts (specs/content.md §Database MiMei), through the
/// node's Redis port (`ledgerd run --redis`), authenticated with the admin cookie.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database MiMei, Redis-compatible: create, list, get, set, or any Redis command (exec).",
        discussion: "Example: ledgerctl mimei db set greeting hello; ledgerctl mimei db exec HSET user:1 name ada; redis-cli -p 6390 -a \"$(cat ~/.ledgerd/.cookie)\" GET greeting",
        subcommands: [Create.self, Attach.self, List.self, Get.self, Set.self, Exec.self])

    struct Target: ParsableArguments {
        @Option(help: ArgumentHelp("The Redis database number (its MiMei).", valueName: "n")) var db = 0
    }

    /// Runs a command on database `number` through the node's Redis port.
    static func run(_ options: GlobalOptions, _ number: Int, _ arguments: [String]) throws -> RESP {
        let path = options.directory.path + "/redis.address"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("the node in \(options.directory.path) serves no Redis port: start it with --redis 127.0.0.1:6390")
        }
        let client = try RESPClient(host: String(text[..<colon]), port: port)
        let cookie = try String(contentsOfFile: options.directory.cookiePath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if case .error(let why) = try client.call([Array("AUTH".utf8), Array(cookie.utf8)]) { throw CLIError("the node refused the admin cookie: \(why)") }
        if number != 0, case .error(let why) = try client.call([Array("SELECT".utf8), Array(String(number).utf8)]) { throw CLIError("database \(number): \(why)") }
        return try client.call(arguments.map { Array($0.utf8) })
    }

    static func print(_ options: GlobalOptions, _ reply: RESP) throws {
        if case .error(let why) = reply { throw CLIError(why) }
        Swift.print(RESPClient.render(reply))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a database MiMei under the next free number (or --number).")
        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("Its Redis database number.", valueName: "n")) var number: Int?
        @Flag(help: "Private: readable only with a capability its author signed (AUTH <capability>).") var `private` = false

        func run() async throws {
            let store = try options.mimeiStore
            let taken = try cli { try store.databaseNumbers() }
            let chosen = number ?? ((taken.map(\.number).max() ?? -1) + 1)
            guard (0...1_000_000).contains(chosen) else { throw CLIError("--number must be 0 to 1000000") }
            if let other = taken.first(where: { $0.number == chosen }) { throw CLIError("database \(chosen) is taken by \(other.id)") }
            let mimei = try cli {
                try MiMei(author: try options.key().publicKey.id, kind: .database, app: "redis", ext: String(chosen), mark: UInt64.random(in: 0...UInt64.max),
                          created: UInt64(Date().timeIntervalSince1970 * 1000), isPrivate: `private`)
            }
            try cli { try store.add(mimei) }
            try cli { try store.setDatabaseNumber(mimei.id, chosen) }
            options.output(["mid": mimei.id.text, "number": chosen, "private": `private`]) { "created database \(chosen): MiMei \(mimei.id.text) (SELECT \(chosen))" }
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach", abstract: "Serve a database MiMei this node holds (another author's, synced) under a number, read-only.",
            discussion: "Example: ledgerctl mimei sync ld1…; ledgerctl mimei db attach ld1… --number 1")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The database MiMei's ID.") var mid: String
        @Option(help: ArgumentHelp("Its Redis database number.", valueName: "n")) var number: Int

        func run() async throws {
            let id = try cli { try ID(text: mid) }
            let store = try options.mimeiStore
            guard let mimei = try cli({ try store.mimei(id) }), mimei.kind == .database else {
                throw CLIError("no database MiMei \(id) here: sync it first (ledgerctl mimei sync \(id))")
            }
            guard (0...1_000_000).contains(number) else { throw CLIError("--number must be 0 to 1000000") }
            if let other = try cli({ try store.databaseNumbers() }).first(where: { $0.number == number && $0.id != id }) {
                throw CLIError("database \(number) is taken by \(other.id)")
            }
            try cli { try store.setDatabaseNumber(id, number) }
            options.output(["mid": id.text, "number": number]) { "database \(number) is now MiMei \(id.text)" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Database numbers and their MiMei.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let store = try options.mimeiStore
            let rows: [[String: Any]] = try cli { try store.databaseNumbers() }.map { entry in
                ["number": entry.number, "mid": entry.id.text, "version": (try? store.last(entry.id)?.number) ?? 0]
            }
            options.output(["databases": rows]) {
                rows.isEmpty ? "no database MiMei yet (database 0 is created on first use)" : rows.map { "\($0["number"] ?? "")\t\($0["mid"] ?? "")\tversion \($0["version"] ?? 0)" }.joined(separator: "\n")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "A string key's value.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var target: Target
        @Argument var key: String
        func run() async throws { try DatabaseCommand.print(options, try DatabaseCommand.run(options, target.db, ["GET", key])) }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a string key (a new version at the next pulse).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var target: Target
        @Argument var key: String
        @Argument var value: String
        func run() async throws { try DatabaseCommand.print(options, try DatabaseCommand.run(options, target.db, ["SET", key, value])) }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "exec", abstract: "Any Redis command, printed as redis-cli prints its reply.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var target: Target
        @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []
        func run() async throws {
            guard !command.isEmpty else { throw CLIError("give a Redis command, e.g. exec HGETALL user:1") }
            try DatabaseCommand.print(options, try DatabaseCommand.run(options, target.db, command))
        }
    }
}
