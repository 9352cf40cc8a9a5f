import ArgumentParser
import Credit
import Foundation
import Ledger

struct CreditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit", abstract: "Letters of credit between nodes: grant, raise, lower, revoke, pay along credit paths, clear debt cycles.",
        subcommands: [Grant.self, Raise.self, Lower.self, Change.self, Revoke.self, List.self, Show.self, History.self, Pay.self, Net.self])

    struct Terms: ParsableArguments {
        @Option(help: ArgumentHelp("Who may use your services: ID or local key name.", valueName: "account")) var to: String
        @Option(help: ArgumentHelp("Most they may owe: bytes, or with a binary prefix (10GiB).", valueName: "amount")) var limit: String
        @Option(help: ArgumentHelp("How many pulses (seconds by default) the line lasts.", valueName: "pulses")) var duration: UInt64 = 30 * 24 * 3600
        @Flag(help: "Let payments ripple through you along this line (off by default: you are no intermediary unless you say so).")
        var ripple = false
        @Option(help: ArgumentHelp("Raise the limit by this much every --every pulses, up to --cap.", valueName: "amount")) var increment: String?
        @Option(help: ArgumentHelp("Pulses between scheduled increments.", valueName: "pulses")) var every: UInt64?
        @Option(help: ArgumentHelp("The most the schedule raises the limit to.", valueName: "amount")) var cap: String?

        func body(_ options: GlobalOptions) async throws -> CBOR {
            let amount = try amountOption(limit, "limit")
            guard duration > 0 else { throw CLIError("--duration must be at least 1 pulse") }
            let status = try await options.client.get("/api/v1/status")
            let (expiry, overflow) = status.uint("pulse").addingReportingOverflow(duration)
            guard !overflow else { throw CLIError("--duration is too large") }
            var terms = LineRules.Terms(to: try options.resolve(to), limit: amount, expiry: expiry, allowRipple: ripple)
            if increment != nil || every != nil || cap != nil {
                guard let increment, let every, let cap else { throw CLIError("a schedule needs --increment, --every and --cap together") }
                terms.increment = try amountOption(increment, "increment")
                terms.period = every
                terms.cap = try amountOption(cap, "cap")
            }
            return terms.body
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Grant a new line of credit.",
                                                        discussion: "Example: ledgerctl credit grant --to alice --limit 10GiB --duration 86400 --ripple")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var terms: Terms

        func run() async throws { try await Submitter(options: options).submitAndPrint(type: LineRules.grant, body: try await terms.body(options), wait: wait) }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "change", abstract: "Set a line's limit, duration, schedule and rippling anew.",
                                                        discussion: "Example: ledgerctl credit change --to alice --limit 2GiB")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var terms: Terms

        func run() async throws { try await Submitter(options: options).submitAndPrint(type: LineRules.change, body: try await terms.body(options), wait: wait) }
    }

    /// Raise or lower: the current terms with the limit moved by an amount.
    struct Adjustment: ParsableArguments {
        @Option(help: ArgumentHelp("Whose line: ID or local key name.", valueName: "account")) var to: String
        @Option(help: ArgumentHelp("By how much: bytes, or with a binary prefix.", valueName: "amount")) var by: String

        func submit(raise: Bool, _ options: GlobalOptions, _ wait: WaitOption) async throws {
            let delta = try amountOption(by, "by")
            let me = try options.key().publicKey.id, grantee = try options.resolve(to)
            guard let line = try await options.client.find("/api/v1/credit-lines/\(me.text)/\(grantee.text)") else {
                throw CLIError("\(me) grants no credit to \(grantee); use credit grant")
            }
            let current = line.uint("limit")
            let (raised, overflow) = current.addingReportingOverflow(delta)
            guard raise ? !overflow : delta < current else {
                throw CLIError(raise ? "the limit would exceed 2^64-1" : "lowering by \(delta) leaves no credit (limit \(current)); use credit revoke")
            }
            var terms = LineRules.Terms(to: grantee, limit: raise ? raised : current - delta, expiry: line.uint("expiry"), allowRipple: line["ripple"] as? Bool ?? false)
            if let schedule = line.object("schedule") {
                (terms.increment, terms.period, terms.cap) = (schedule.uint("increment"), schedule.uint("period"), schedule.uint("cap"))
                if terms.cap <= terms.limit { (terms.increment, terms.period, terms.cap) = (0, 0, 0) }
            }
            try await Submitter(options: options).submitAndPrint(type: LineRules.change, body: terms.body, wait: wait)
        }
    }

    struct Raise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "raise", abstract: "Raise a line's limit, keeping its other terms.",
                                                        discussion: "Example: ledgerctl credit raise --to alice --by 1GiB")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var adjustment: Adjustment
        func run() async throws { try await adjustment.submit(raise: true, options, wait) }
    }

    struct Lower: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lower", abstract: "Lower a line's limit; debt already incurred stays due.",
            discussion: "Example: ledgerctl credit lower --to alice --by 512MiB")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var adjustment: Adjustment
        func run() async throws { try await adjustment.submit(raise: false, options, wait) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a line of credit you granted; what is owed stays owed.",
                                                        discussion: "Example: ledgerctl credit revoke --to alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("The account whose line to revoke: ID or local key name.", valueName: "account")) var to: String

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(type: LineRules.revoke, body: LineRules.revokeBody(to: try options.resolve(to)), wait: wait)
        }
    }

    static func describe(_ line: [String: Any]) -> String {
        "\(line.string("from")) → \(line.string("to"))  limit \(line.string("limit_display"))  owed \(line.string("owed_display"))  until pulse \(line.string("expiry"))\((line["ripple"] as? Bool) == true ? "  ripple" : "")"
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
            if from == nil && to == nil {
                let me = try options.key().publicKey.id.text
                let given = try await client.get("/api/v1/credit-lines?from=\(me)").list("credit_lines")
                let received = try await client.get("/api/v1/credit-lines?to=\(me)").list("credit_lines")
                return print(lines: given + received)
            }
            var query: [String] = []
            if let from { query.append("from=\(try options.resolve(from).text)") }
            if let to { query.append("to=\(try options.resolve(to).text)") }
            print(lines: try await client.get("/api/v1/credit-lines?" + query.joined(separator: "&")).list("credit_lines"))
        }

        func print(lines: [[String: Any]]) {
            options.output(["credit_lines": lines]) { lines.isEmpty ? "no credit lines" : lines.map(CreditCommand.describe).joined(separator: "\n") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one credit line.",
                                                        discussion: "Example: ledgerctl credit show node alice")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Grantor: ID or local key name.") var from: String
        @Argument(help: "Grantee: ID or local key name.") var to: String

        func run() async throws {
            let line = try await options.client.get("/api/v1/credit-lines/\(try options.resolve(from).text)/\(try options.resolve(to).text)")
            options.output(line) {
                """
                \(line.string("from")) → \(line.string("to"))
                  limit   \(line.string("limit_display")) (\(line.string("limit")) bytes; \(line.string("effective_limit")) now)
                  owed    \(line.string("owed_display")) (\(line.string("owed_in_ious")) of it in IOUs); room \(line.string("room"))
                  expiry  pulse \(line.string("expiry"))   ripple \((line["ripple"] as? Bool) == true ? "yes" : "no")   active \((line["active"] as? Bool) == true ? "yes" : "no")
                """
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Show how a credit line's use and limit moved, block by block (newest first).",
                                                        discussion: "Example: ledgerctl credit history node alice --limit 20")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Grantor: ID or local key name.") var from: String
        @Argument(help: "Grantee: ID or local key name.") var to: String
        @Option(help: "Points at most (1 to 1000).") var limit: Int = 100

        func run() async throws {
            guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            let answer = try await options.client.get("/api/v1/credit-lines/\(try options.resolve(from).text)/\(try options.resolve(to).text)/history?limit=\(limit)")
            options.output(answer) {
                func column(_ text: String) -> String { text.padding(toLength: 12, withPad: " ", startingAt: 0) }
                let rows = (answer["history"] as? [[String: Any]] ?? []).map { point in
                    let owed = (point["owed"] as? NSNumber)?.uint64Value ?? 0, limit = (point["limit"] as? NSNumber)?.uint64Value ?? 0
                    let used = limit == 0 ? "-" : String(format: "%.1f %%", Double(owed) * 100 / Double(limit))
                    return column(point.string("height")) + column(Units.display(owed)) + column(Units.display(limit)) + used
                }
                return ([column("HEIGHT") + column("OWED") + column("LIMIT") + "USED"] + rows).joined(separator: "\n")
            }
        }
    }

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pay", abstract: "Pay along a path of credit lines: finds one with room for the amount and settles it atomically.",
            discussion: "Example: ledgerctl credit pay --to dave --amount 100MiB")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("Payee: ID or local key name.", valueName: "account")) var to: String
        @Option(help: ArgumentHelp("Amount: bytes, or with a binary prefix.", valueName: "amount")) var amount: String

        func run() async throws {
            let value = try amountOption(amount, "amount")
            let me = try options.key().publicKey.id, payee = try options.resolve(to)
            let found: [String: Any]
            do { found = try await options.client.get("/api/v1/credit-path?from=\(me.text)&to=\(payee.text)&amount=\(value)") } catch let error as NodeClient.APIFailure {
                throw CLIError("no payment: \(error.message)")
            }
            let via = try (found["via"] as? [String] ?? []).map { text -> ID in
                do { return try ID(text: text) } catch { throw CLIError("the node sent a bad path") }
            }
            let tx = try await Submitter(options: options).submit(type: PaymentRule.type, body: PaymentRule.body(to: payee, amount: value, via: via),
                                                                  signers: [try options.key()], wait: !wait.noWait)
            var view = tx
            view["path"] = found["path"]
            options.output(view) { "paid \(Units.display(value)) along \((found["path"] as? [String] ?? []).joined(separator: " → "))\n\(Submitter.describe(tx))" }
        }
    }

    struct Net: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "net", abstract: "Clear debt cycles now (bookkeepers also do it once per election cycle).",
            discussion: "Example: ledgerctl credit net --dry-run")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Flag(help: "Only show the cycles and the debt they would relieve.") var dryRun = false

        func run() async throws {
            let preview = try await options.client.get("/api/v1/netting")
            let cycles = preview.list("cycles")
            let summary = "\(cycles.count) cycle(s) relieve \(Units.display(preview.uint("relieved"))) of \(Units.display(preview.uint("total_debt"))) debt"
            guard !dryRun, !cycles.isEmpty else { return options.output(preview) { summary } }
            let parsed = try cycles.map { cycle -> Netting.Cycle in
                let nodes = try (cycle["nodes"] as? [String] ?? []).map { text -> ID in
                    do { return try ID(text: text) } catch { throw CLIError("the node sent a bad cycle") }
                }
                return Netting.Cycle(nodes: nodes, amount: cycle.uint("amount"))
            }
            let tx = try await Submitter(options: options).submit(type: Netting.type, body: Netting.body(parsed), signers: [try options.key()], wait: !wait.noWait)
            var view = tx
            view["relieved"] = preview["relieved"]
            options.output(view) { "\(summary)\n\(Submitter.describe(tx))" }
        }
    }
}
