import ArgumentParser
import Ledger

struct TxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx", abstract: "Inspect transactions, or add your signature to a partial one.", subcommands: [Show.self, Sign.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a committed transaction.",
                                                        discussion: "Example: ledgerctl tx show 3f1c…(64 hex)")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Transaction ID (64 hex).") var id: String

        func run() async throws {
            guard Digest(hex: id) != nil else { throw CLIError("'\(id)' is not a transaction ID (64 hex characters)") }
            let tx = try await options.client.get("/api/v1/transactions/\(id.lowercased())")
            options.output(tx) {
                var lines = ["\(tx.string("type"))  \(tx.string("id"))", "block     \(tx.string("height")) (position \(tx.string("position")))",
                             "origin    \(tx.string("origin"))  nonce \(tx.string("nonce"))"]
                for signer in tx.list("signers") { lines.append("signer    \(signer.string("id"))") }
                let body = tx.object("body") ?? [:]
                for key in body.keys.sorted() { lines.append("  \(key): \(body[key]!)") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign", abstract: "Add the --as key's signature to a partial transaction file; submit it once complete.",
            discussion: "Example: ledgerctl tx sign transfer.json --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Partial transaction file written by another command's --out.") var file: String

        func run() async throws {
            var partial = try PartialTransaction.read(from: file)
            let key = try options.key()
            guard let slot = partial.transaction.signers.firstIndex(of: key.publicKey) else {
                throw CLIError("key '\(options.signer)' is not a signer of this transaction")
            }
            partial.signatures[slot] = key.sign(partial.transaction.signingDigest)
            let complete = partial.signatures.compactMap { $0 }
            guard complete.count == partial.signatures.count else {
                try partial.write(to: file)
                options.output(["id": partial.transaction.id.hex, "status": "needs_signature"]) { "signed; more signatures are needed (\(file))" }
                return
            }
            let tx = try await Submitter(options: options).submit(
                SignedTransaction(transaction: partial.transaction, signatures: complete), wait: !wait.noWait)
            options.output(tx) { Submitter.describe(tx) }
        }
    }
}
