import ArgumentParser
import Foundation
import Ledger

struct BookkeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookkeeper",
        abstract: "The bookkeepers who decide blocks: the set, their power, performance and earnings, bonds, the next election, and this node's place.",
        discussion: "Example: ledgerctl bookkeeper bond --amount 2MiB, then ledgerctl bookkeeper list to see the next election",
        subcommands: [List.self, Status.self, Bond.self, Unbond.self])

    struct Bond: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bond", abstract: "Lock bandwidth units with this node's key to stand at the next election.",
            discussion: """
                The bond stands at every election until it is unbonded; evidence of equivocation burns a share of
                it (the chain's slash_percent). Bonding again adds to it.
                Example: ledgerctl bookkeeper bond --amount 2MiB
                """)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("Amount in bytes, or with a binary prefix (2MiB); at least the chain's bond_minimum in total.", valueName: "amount"))
        var amount: String

        func run() async throws {
            let bytes = try amountOption(amount, "amount")
            let result = try await Submitter(options: options).submit(type: BondRules.bondType, body: BondRules.body(amount: bytes), signers: [try options.key()], wait: !wait.noWait)
            options.output(result) { "bonded \(bytes) bytes: \(Submitter.describe(result))" }
        }
    }

    struct Unbond: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unbond", abstract: "Release this node's bond (all of it, or --amount); it is paid back after the chain's unbond delay.",
            discussion: """
                What is unbonding no longer stands at elections but can still be slashed until it is paid back, at
                the first block past unbond_delay_pulses pulses and 100 heights.
                Example: ledgerctl bookkeeper unbond
                """)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("Amount in bytes (default: the whole bond).", valueName: "amount")) var amount: String?

        func run() async throws {
            let key = try options.key()
            let bytes: UInt64
            if let amount {
                bytes = try amountOption(amount, "amount")
            } else {
                let set = try await options.client.get("/api/v1/bookkeepers")
                let mine = set.object("election")?.list("candidates").first { $0.string("id") == key.publicKey.id.text }
                guard let mine, mine.uint("bonded") > 0 else { throw CLIError("\(key.publicKey.id) has no bond standing") }
                bytes = mine.uint("bonded")
            }
            let result = try await Submitter(options: options).submit(type: BondRules.unbondType, body: BondRules.body(amount: bytes), signers: [key], wait: !wait.noWait)
            options.output(result) { "unbonding \(bytes) bytes: \(Submitter.describe(result))" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "The bookkeeper set, with power, blocks proposed and signed, and rewards over the last 100 blocks.",
            discussion: "Example: ledgerctl bookkeeper list --height 12")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The set that certifies this block (default: the latest).") var height: UInt64?

        func run() async throws {
            let set = try await options.client.get("/api/v1/bookkeepers" + (height.map { "?height=\($0)" } ?? ""))
            options.output(set) {
                let rows = set.list("bookkeepers").map { member in
                    "\(member.string("id"))\(member["chief"] as? Bool == true ? " (chief)" : "")  power \(member.string("power"))  proposed \(member.string("proposed"))  signed \(member.string("signed"))  rewards \(member.string("rewards"))"
                }
                let slashed = set.list("slashed").map { "  excluded at block \($0.string("excluded_at")): \($0.string("bookkeeper")) (equivocated at height \($0.string("height")), round \($0.string("round")); \($0.string("burnt")) burnt)" }
                let election = set.object("election") ?? [:]
                let candidates = election.list("candidates").map {
                    "  \($0.string("id"))  bonded \($0.string("bonded"))  performance \(Double($0.uint("performance_permille")) / 10) %\($0["would_be_elected"] as? Bool == true ? "  (would be elected)" : $0["eligible"] as? Bool == false ? "  (absent too often: not eligible)" : "")"
                }
                return (["set \(set.string("hash")) at height \(set.string("height")), over the last \(set.string("window")) blocks:"] + rows.map { "  " + $0 }
                        + (slashed.isEmpty ? [] : ["slashing history:"] + slashed)
                        + ["next election at pulse \(election.string("next_pulse")) (cycle \(election.string("cycle")) ends), \(election.string("seats")) seats; candidates:"]
                        + (candidates.isEmpty ? ["  none bonded: the set stays"] : candidates)).joined(separator: "\n")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Whether this node is a bookkeeper, and how it has done over the last 100 blocks.",
            discussion: "Example: ledgerctl bookkeeper status")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let client = try options.client
            let status = try await client.get("/api/v1/status")
            let set = try await client.get("/api/v1/bookkeepers")
            let me = status.string("node_id")
            let member = set.list("bookkeepers").first { $0.string("id") == me }
            var view: [String: Any] = ["id": me, "bookkeeper": member != nil, "votes": status["bookkeeper"] as? Bool ?? false]
            if let member { for key in ["power", "proposed", "signed", "performance_ppm", "rewards", "chief"] { view[key] = member[key] } }
            let candidate = set.object("election")?.list("candidates").first { $0.string("id") == me }
            view["bonded"] = candidate?["bonded"] ?? 0
            view["unbonding"] = set.object("election")?.list("unbonding").first { $0.string("id") == me }?["amount"] ?? 0
            view["next_election_pulse"] = set.object("election")?["next_pulse"] ?? 0
            options.output(view) {
                let bond = "bonded \(view.string("bonded")), next election at pulse \(view.string("next_election_pulse"))"
                guard let member else { return "\(me) is not in the bookkeeper set; it follows the chain (\(bond))" }
                return """
                    \(me) is a bookkeeper\(member["chief"] as? Bool == true ? " (the chief)" : "")\(status["bookkeeper"] as? Bool == true ? "" : ", but runs with --no-bookkeeper and does not vote")
                      power        \(member.string("power"))
                      last \(set.string("window")) blocks: proposed \(member.string("proposed")), signed \(member.string("signed")) (\(Double(member["performance_ppm"] as? Int ?? 0) / 10_000) %)
                      rewards      \(member.string("rewards"))
                      bond         \(bond)
                    """
            }
        }
    }
}
