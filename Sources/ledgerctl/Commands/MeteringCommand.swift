import ArgumentParser
import Foundation

/// `ledgerctl metering`: Bitswap billed between ledger nodes (specs/credit.md §Metering in practice).
struct MeteringCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metering", abstract: "Bitswap billed under letters of credit: what this node served and received, receipted and settled.",
        discussion: "Served: each consumer's bytes, its newest receipt, what the chain settled, its debt and limit, and whether it is served. Received: each provider's, the same from this side.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let view = try await options.client.get("/api/v1/metering")
        if options.json { print(JSONText.render(view)); return }
        let provided = view.list("provided"), consumed = view.list("consumed")
        var lines: [String] = []
        if !provided.isEmpty {
            lines.append("SERVED TO                                     SERVED       RECEIPTED    SETTLED      OWED         LIMIT        STATE")
            for row in provided {
                let state = (row["serving"] as? Bool) == false ? "stopped: \(row.string("stopped"))" : "serving"
                lines.append("\(row.string("consumer").padding(toLength: 44, withPad: " ", startingAt: 0))  " + ["served", "receipted", "settled", "owed", "limit"]
                    .map { UsageCommand.bytes(row[$0]) }.joined(separator: " ") + " " + state)
            }
        }
        if !consumed.isEmpty {
            if !lines.isEmpty { lines.append("") }
            lines.append("RECEIVED FROM                                 RECEIVED     SIGNED       SETTLED      OWED         LIMIT")
            for row in consumed {
                lines.append("\(row.string("provider").padding(toLength: 44, withPad: " ", startingAt: 0))  " + ["received", "signed", "settled", "owed", "limit"]
                    .map { UsageCommand.bytes(row[$0]) }.joined(separator: " "))
            }
        }
        print(lines.isEmpty ? "nothing metered yet: no Bitswap under a letter of credit" : lines.joined(separator: "\n"))
    }
}
