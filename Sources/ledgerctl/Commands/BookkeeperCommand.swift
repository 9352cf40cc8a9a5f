import ArgumentParser
import Foundation

struct BookkeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookkeeper",
        abstract: "The bookkeepers who decide blocks: the set, their power, performance and earnings, and this node's place.",
        discussion: "Example: ledgerctl bookkeeper list --json   (bond and unbond come with elections, not in this version)",
        subcommands: [List.self, Status.self])

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
                let slashed = set.list("slashed").map { "  excluded at block \($0.string("excluded_at")): \($0.string("bookkeeper")) (equivocated at height \($0.string("height")), round \($0.string("round")))" }
                return (["set \(set.string("hash")) at height \(set.string("height")), over the last \(set.string("window")) blocks:"] + rows.map { "  " + $0 }
                        + (slashed.isEmpty ? [] : ["slashing history:"] + slashed)).joined(separator: "\n")
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
            options.output(view) {
                guard let member else { return "\(me) is not in the bookkeeper set; it follows the chain" }
                return """
                    \(me) is a bookkeeper\(member["chief"] as? Bool == true ? " (the chief)" : "")\(status["bookkeeper"] as? Bool == true ? "" : ", but runs with --no-bookkeeper and does not vote")
                      power        \(member.string("power"))
                      last \(set.string("window")) blocks: proposed \(member.string("proposed")), signed \(member.string("signed")) (\(Double(member["performance_ppm"] as? Int ?? 0) / 10_000) %)
                      rewards      \(member.string("rewards"))
                    """
            }
        }
    }
}
