import ArgumentParser
import Credit
import Foundation
import Ledger

extension OrgCommand {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Recompute every income split of an organization from the chain alone and list any mismatch.",
            discussion: """
                Replays the chain from the genesis file with full verification (signatures, commit certificates, state roots),
                recomputes each income event's split from the state before its block, and compares it with what
                the ledger recorded. Exit status 1 when anything differs.
                Example: ledgerctl org audit ld1… --from 100 --to 200
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Organization ID or key name.") var organization: String
        @Option(help: "First block height to report.") var from: UInt64 = 0
        @Option(help: "Last block height to report (default: the latest).") var to: UInt64?

        func run() async throws {
            let org = try options.resolve(organization)
            let client = try options.client
            guard let url = URL(string: client.base + "/api/v1/genesis"), let data = try? Data(contentsOf: url) else { throw CLIError("cannot fetch the genesis file") }
            let genesis: Genesis
            do { genesis = try Genesis.decode(json: data) } catch { throw CLIError("\(error)") }
            var (state, genesisBlock) = try genesis.build()
            guard try await client.get("/api/v1/blocks/0").string("hash") == genesisBlock.hash.hex else {
                throw CLIError("the node's block 0 is not the block its genesis file makes")
            }
            let latest = try await client.get("/api/v1/status").uint("height")
            let last = min(to ?? latest, latest)
            let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
            var previous = genesisBlock.header
            var findings: [IncomeAudit.Finding] = []
            for height in stride(from: UInt64(1), through: last, by: 1) {
                let view = try await client.get("/api/v1/blocks/\(height)")
                let block = try Self.block(from: view)
                let applied: Chain.Applied
                do { applied = try Chain.apply(block, after: previous, state: state, machine: machine) } catch {
                    throw CLIError("block \(height) does not verify: \(error)")
                }
                if height >= from { findings += IncomeAudit.check(block, before: state, after: applied.state, organization: org) }
                state = applied.state
                previous = block.header
            }
            let mismatches = findings.filter { $0.mismatch != nil }
            let rows: [[String: Any]] = findings.map {
                ["sequence": $0.sequence, "height": $0.height, "amount": $0.amount, "recipients": $0.recipients, "verified": $0.mismatch == nil,
                 "mismatch": $0.mismatch ?? NSNull()]
            }
            options.output(["id": org.text, "blocks_replayed": last, "events": rows, "mismatches": mismatches.count]) {
                var lines = ["replayed \(last) blocks with full verification; \(findings.count) income events of \(org) checked"]
                for finding in findings {
                    lines.append("  event \(finding.sequence) at block \(finding.height): \(Units.display(finding.amount)) to \(finding.recipients) recipients — \(finding.mismatch.map { "MISMATCH: \($0)" } ?? "verified")")
                }
                lines.append(mismatches.isEmpty ? "all distributions verified" : "\(mismatches.count) mismatch(es)")
                return lines.joined(separator: "\n")
            }
            if !mismatches.isEmpty { throw ExitCode(1) }
        }

        /// A block from its API JSON: the header rebuilt, transactions and certificates decoded.
        static func block(from view: [String: Any]) throws -> Block {
            let header = try HeaderFromJSON.decode(view)
            guard header.hash.hex == view.string("hash") else { throw CLIError("block \(header.height): its header does not hash to its hash") }
            let transactions = try view.list("transactions").map { tx -> SignedTransaction in
                guard let bytes = Hex.decode(tx.string("encoded")), let signed = try? SignedTransaction.decodeUntrusted(bytes) else {
                    throw CLIError("block \(header.height): a transaction does not decode")
                }
                return signed
            }
            let evidence = try view.list("evidence").map { piece -> Equivocation in
                guard let bytes = Hex.decode(piece.string("encoded")), let decoded = try? Equivocation(cbor: CBORDecoder.decode(bytes)) else {
                    throw CLIError("block \(header.height): its evidence does not decode")
                }
                return decoded
            }
            return Block(header: header, transactions: transactions, commit: try HeaderFromJSON.certificate(view["commit"], height: header.height),
                         lastCommit: try HeaderFromJSON.certificate(view["last_commit"], height: header.height), evidence: evidence)
        }
    }
}
