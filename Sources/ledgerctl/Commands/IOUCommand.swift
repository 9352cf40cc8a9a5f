import ArgumentParser
import Credit
import Ledger

struct IOUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iou", abstract: "IOUs: debts issued under the borrower's signature, repaid or passed on.",
        subcommands: [Issue.self, List.self, Show.self, Transfer.self, Repay.self])

    static func describe(_ iou: [String: Any]) -> String {
        "\(iou.string("id"))  \(iou.string("borrower")) owes \(iou.string("holder"))  \(iou.string("outstanding_display")) of \(iou.string("amount"))  \(iou.string("memo"))"
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue", abstract: "Issue an IOU to a lender that grants you credit.",
            discussion: "Example: ledgerctl iou issue --to node --amount 300MiB --memo \"content fee\" --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: ArgumentHelp("The lender: ID or local key name.", valueName: "account")) var to: String
        @Option(help: ArgumentHelp("Amount: bytes, or with a binary prefix.", valueName: "amount")) var amount: String
        @Option(help: "What it is for (at most 256 bytes).") var memo: String = ""

        func run() async throws {
            guard memo.utf8.count <= IOU.memoBytesMax else { throw CLIError("--memo is longer than \(IOU.memoBytesMax) bytes") }
            let body = IOURules.issueBody(lender: try options.resolve(to), amount: try amountOption(amount, "amount"), memo: memo)
            let (tx, nonce) = try await Submitter(options: options).submitReturningNonce(type: IOURules.issue, body: body, wait: !wait.noWait)
            var view = tx
            view["iou"] = IOU.stateKey(borrower: try options.key().publicKey.id, nonce: nonce).text
            options.output(view) { "IOU \(view.string("iou"))\n\(Submitter.describe(tx))" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List IOUs you owe or hold (or another party's).",
                                                        discussion: "Example: ledgerctl iou list --party alice")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Whose IOUs (default: the --as key's).") var party: String?

        func run() async throws {
            let id = try party.map(options.resolve) ?? options.key().publicKey.id
            let answer = try await options.client.get("/api/v1/ious?party=\(id.text)")
            options.output(answer) { answer.list("ious").isEmpty ? "no IOUs" : answer.list("ious").map(IOUCommand.describe).joined(separator: "\n") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an IOU.", discussion: "Example: ledgerctl iou show ld1…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "IOU ID.") var iou: String

        func run() async throws {
            let view = try await options.client.get("/api/v1/ious/\(try options.resolve(iou).text)")
            options.output(view) { IOUCommand.describe(view) }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer", abstract: "Pass an IOU you hold to a third node that grants the borrower credit; it co-signs.",
            discussion: "Example: ledgerctl iou transfer ld1…(iou) --to carol")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var counterparty: CounterpartyOptions
        @Argument(help: "IOU ID.") var iou: String
        @Option(help: ArgumentHelp("The new holder: ID or local key name.", valueName: "account")) var to: String

        func run() async throws {
            let holder = try options.resolve(to)
            try await Submitter(options: options).submitCosigned(
                type: IOURules.transfer, body: IOURules.transferBody(iou: try options.resolve(iou), to: holder), first: try options.key(),
                second: holder, counterparty: counterparty, wait: !wait.noWait)
        }
    }

    struct Repay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "repay", abstract: "Repay (part of) an IOU you owe from your balance.",
                                                        discussion: "Example: ledgerctl iou repay ld1… --amount 100MiB --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "IOU ID.") var iou: String
        @Option(help: ArgumentHelp("Amount: bytes, or with a binary prefix.", valueName: "amount")) var amount: String

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(
                type: IOURules.repay, body: IOURules.repayBody(iou: try options.resolve(iou), amount: try amountOption(amount, "amount")), wait: wait)
        }
    }
}
