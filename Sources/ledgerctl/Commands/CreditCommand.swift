import ArgumentParser
import Credit
import Ledger

struct CreditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit", abstract: "Letters of credit: let another node use your services up to a limit.",
        subcommands: [Grant.self, Change.self, Revoke.self, List.self, Show.self])

    struct Terms: ParsableArguments {
        @Option(help: ArgumentHelp("Who may use your services: ID or local key name.", valueName: "account")) var to: String
        @Option(help: ArgumentHelp("Most they may owe: bytes, or with a binary prefix (10GiB).", valueName: "amount")) var limit: String
        @Option(help: ArgumentHelp("How many pulses (seconds by default) the line lasts.", valueName: "pulses")) var duration: UInt64 = 30 * 24 * 3600

        /// Submits `type` with these terms, signed by the --as key, and prints the result.
        func submit(_ type: String, _ options: GlobalOptions, _ wait: WaitOption) async throws {
            let tx = try await Submitter(options: options).submit(type: type, body: try await body(options), signers: [try options.key()], wait: !wait.noWait)
            options.output(tx) { Submitter.describe(tx) }
        }

        func body(_ options: GlobalOptions) async throws -> CBOR {
            guard let amount = Units.parse(limit), amount > 0 else { throw CLIError("--limit '\(limit)' is not a positive amount such as 1048576 or 10GiB") }
            guard duration > 0 else { throw CLIError("--duration must be at least 1 pulse") }
            let status = try await options.client.get("/api/v1/status")
            let (expiry, overflow) = status.uint("pulse").addingReportingOverflow(duration)
            guard !overflow else { throw CLIError("--duration is too large") }
            return CreditRules.lineBody(to: try options.resolve(to), limit: amount, expiry: expiry)
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Grant a new line of credit.",
                                                        discussion: "Example: ledgerctl credit grant --to alice --limit 10GiB --duration 86400")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var terms: Terms

        func run() async throws { try await terms.submit(CreditRules.grant, options, wait) }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "change", abstract: "Raise or lower a line's limit and renew its expiry.",
                                                        discussion: "Example: ledgerctl credit change --to alice --limit 2GiB")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var terms: Terms

        func run() async throws { try await terms.submit(CreditRules.change, options, wait) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a line of credit you granted.",
                                                        discussion: "Example: ledgerctl credit revoke --to alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("The account whose line to revoke: ID or local key name.", valueName: "account")) var to: String

        func run() async throws {
            let tx = try await Submitter(options: options).submit(
                type: CreditRules.revoke, body: CreditRules.revokeBody(to: try options.resolve(to)), signers: [try options.key()], wait: !wait.noWait)
            options.output(tx) { Submitter.describe(tx) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List credit lines (default: those you grant and receive).",
            discussion: "Example: ledgerctl credit list --from ld1…")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only lines granted by this account.") var from: String?
        @Option(help: "Only lines granted to this account.") var to: String?

        func run() async throws {
            let client = try options.client
            var lines: [[String: Any]]
            if from == nil && to == nil {
                let me = try options.key().publicKey.id.text
                lines = try await client.get("/api/v1/credit-lines?from=\(me)").list("credit_lines")
                lines += try await client.get("/api/v1/credit-lines?to=\(me)").list("credit_lines")
            } else {
                var query: [String] = []
                if let from { query.append("from=\(try options.resolve(from).text)") }
                if let to { query.append("to=\(try options.resolve(to).text)") }
                lines = try await client.get("/api/v1/credit-lines?" + query.joined(separator: "&")).list("credit_lines")
            }
            options.output(["credit_lines": lines]) {
                lines.isEmpty ? "no credit lines" : lines.map { "\($0.string("from")) → \($0.string("to"))  \($0.string("limit_display"))  until pulse \($0.string("expiry"))" }.joined(separator: "\n")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one credit line.",
                                                        discussion: "Example: ledgerctl credit show node alice")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Authorizer: ID or local key name.") var from: String
        @Argument(help: "Authorized: ID or local key name.") var to: String

        func run() async throws {
            let line = try await options.client.get("/api/v1/credit-lines/\(try options.resolve(from).text)/\(try options.resolve(to).text)")
            options.output(line) {
                "\(line.string("from")) → \(line.string("to"))\n  limit   \(line.string("limit_display")) (\(line.string("limit")) bytes)\n  expiry  pulse \(line.string("expiry"))\n  active  \(line.string("active"))"
            }
        }
    }
}
