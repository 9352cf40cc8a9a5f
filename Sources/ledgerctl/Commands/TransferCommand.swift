import ArgumentParser
import Foundation
import Ledger

struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Send bandwidth units; payer and payee both sign.",
        discussion: """
            When the recipient's key is local (a key name, or an ID whose key is in --data), both signatures
            are made here and the transfer is submitted. Otherwise the payer's half is written to --out for the
            recipient to complete with 'ledgerctl tx sign FILE --as THEM'.
            Example: ledgerctl transfer --to alice --amount 5GiB
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var wait: WaitOption
    @Option(help: ArgumentHelp("Recipient: ID (ld1…) or local key name.", valueName: "account")) var to: String
    @Option(help: ArgumentHelp("Amount in bytes, or with a binary prefix (5GiB).", valueName: "amount")) var amount: String
    @Option(help: ArgumentHelp("Write the half-signed transaction here for the recipient to sign (always used when their key is not local).", valueName: "file")) var out: String?
    @Option(name: .customLong("to-key"), help: ArgumentHelp("Recipient's public key (hex), needed when its key is not local.", valueName: "hex")) var toKey: String?

    func run() async throws {
        guard let bytes = Units.parse(amount), bytes > 0 else { throw CLIError("--amount '\(amount)' is not a positive amount such as 1024 or 5GiB") }
        let payer = try options.key()
        let recipient = try options.resolve(to)
        let submitter = Submitter(options: options)
        let body = TransferRule.body(to: recipient, amount: bytes)
        let localPayee = options.localKey(for: recipient)
        if out == nil, let payee = localPayee {
            let tx = try await submitter.submit(type: TransferRule.type, body: body, signers: [payer, payee], wait: !wait.noWait)
            options.output(tx) { Submitter.describe(tx) }
            return
        }
        guard let out, let recipientKey = try localPayee?.publicKey ?? toKey.map(parseKey) else {
            throw CLIError("the recipient's key is not in \(options.directory.keysPath); pass --to-key (their public key) and --out FILE, then have them run 'ledgerctl tx sign FILE'")
        }
        guard recipientKey.id == recipient else { throw CLIError("--to-key is not the public key of \(recipient)") }
        let template = try await submitter.transaction(type: TransferRule.type, body: body, signers: [payer])
        let unsigned = Transaction(
            chain: template.chain, type: template.type, signers: [payer.publicKey, recipientKey], nonce: template.nonce,
            expiry: template.expiry, body: body)
        try PartialTransaction(transaction: unsigned, signatures: [payer.sign(unsigned.signingDigest), nil]).write(to: out)
        options.output(["id": unsigned.id.hex, "file": out, "status": "needs_signature"]) {
            "wrote \(out); the recipient completes and submits it with: ledgerctl tx sign \(out) --as <their key>"
        }
    }

    private func parseKey(_ text: String) throws -> PublicKey {
        guard let raw = Hex.decode(text), let key = try? PublicKey(bytes: raw) else { throw CLIError("--to-key '\(text)' is not a 64-hex public key") }
        return key
    }
}
