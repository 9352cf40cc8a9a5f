import ArgumentParser
import Ledger

struct BlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "block", abstract: "Inspect blocks.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a block by height or hash.",
                                                        discussion: "Example: ledgerctl block show 1")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Height, or block hash (64 hex).") var block: String

        func run() async throws {
            guard UInt64(block) != nil || Digest(hex: block) != nil else { throw CLIError("'\(block)' is neither a height nor a 64-hex block hash") }
            let view = try await options.client.get("/api/v1/blocks/\(block.lowercased())")
            options.output(view) {
                var lines = ["block \(view.string("height"))  \(view.string("hash"))", "pulse      \(view.string("pulse"))",
                             "previous   \(view.string("previous"))", "state root \(view.string("state_root"))",
                             "proposer   \(view.string("proposer"))", "round      \((view["commit"] as? [String: Any])?.uint("round") ?? 0)",
                             "precommits \(((view["commit"] as? [String: Any])?["votes"] as? [Any])?.count ?? 0)"]
                for tx in view.list("transactions") { lines.append("  \(tx.string("type").padding(toLength: 14, withPad: " ", startingAt: 0)) \(tx.string("id"))") }
                return lines.joined(separator: "\n")
            }
        }
    }
}

/// Rebuilds a block header from its API JSON, so a client can hash it and check its certificate itself.
enum HeaderFromJSON {
    static func decode(_ view: [String: Any]) throws -> BlockHeader {
        guard let previous = Digest(hex: view.string("previous")), let transactionRoot = Digest(hex: view.string("tx_root")),
            let stateRoot = Digest(hex: view.string("state_root")), let proposer = try? ID(text: view.string("proposer")),
            let lastCommit = Digest(hex: view.string("last_commit_hash")), let bookkeepers = Digest(hex: view.string("bookkeepers_hash")),
            let nextBookkeepers = Digest(hex: view.string("next_bookkeepers_hash")), let evidenceRoot = Digest(hex: view.string("evidence_root"))
        else { throw CLIError("the node sent a block header that does not parse") }
        var header = BlockHeader(
            chain: view.string("chain"), height: view.uint("height"), pulse: view.uint("pulse"), timeMillis: view.uint("time_ms"),
            previous: previous, lastCommit: lastCommit, bookkeepers: bookkeepers, nextBookkeepers: nextBookkeepers,
            transactionRoot: transactionRoot, stateRoot: stateRoot, proposer: proposer, transactionCount: view.uint("tx_count"))
        header.evidenceRoot = evidenceRoot
        return header
    }

    /// A block's certificate (`commit` or `last_commit`) from its canonical encoding; nil when the JSON has null.
    static func certificate(_ value: Any?, height: UInt64) throws -> CommitCertificate? {
        guard let view = value as? [String: Any] else { return nil }
        guard let bytes = Hex.decode(view.string("encoded")), let certificate = try? CommitCertificate(encoded: bytes) else {
            throw CLIError("block \(height): its certificate does not decode")
        }
        return certificate
    }
}
