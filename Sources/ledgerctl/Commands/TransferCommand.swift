import ArgumentParser
import Foundation
import Ledger

struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Send bandwidth units; payer and payee both sign.",
        discussion: """
            When the recipient's key is local (a key name, or an ID whose key is in --data), both signatures
            are made here and the transfer is submitted. Otherwise the payer's half is written to --out (with
            --counterparty-key) for the recipient to complete with 'ledgerctl tx sign FILE --as THEM'.
            Example: ledgerctl transfer --to alice --amount 5GiB
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var wait: WaitOption
    @Option(help: ArgumentHelp("Recipient: ID (ld1…) or local key name.", valueName: "account")) var to: String
    @Option(help: ArgumentHelp("Amount in bytes, or with a binary prefix (5GiB).", valueName: "amount")) var amount: String
    @OptionGroup var counterparty: CounterpartyOptions

    func run() async throws {
        let bytes = try amountOption(amount, "amount")
        let recipient = try options.resolve(to)
        try await Submitter(options: options).submitCosigned(
            type: TransferRule.type, body: TransferRule.body(to: recipient, amount: bytes), first: try options.key(), second: recipient,
            counterparty: counterparty, wait: !wait.noWait)
    }
}
