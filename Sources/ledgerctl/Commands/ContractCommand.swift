import ArgumentParser
import Credit
import Foundation
import Ledger

struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract", abstract: "Storage and forwarding contracts.", subcommands: [Storage.self, Forward.self, List.self, Show.self])

    static func describe(_ contract: [String: Any]) -> String {
        contract.string("kind") == "storage"
            ? "storage \(contract.string("id"))  \(contract.string("payer")) pays \(contract.string("provider")) for \(contract.string("cid")) (\(contract.string("size")) bytes), period \(contract.string("current_period"))/\(contract.string("periods"))\((contract["ended"] as? Bool) == true ? ", ended" : "")"
            : "forward \(contract.string("id"))  \(contract.string("relay")) relays for \(contract.string("client")) at \(contract.string("price_ppm")) ppm\((contract["ended"] as? Bool) == true ? ", ended" : "")"
    }

    static func contentFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard !data.isEmpty else { throw CLIError("\(path) is empty") }
        return Array(data)
    }

    struct Storage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "storage", abstract: "Pay a node to keep content, with challenges it must answer.",
            subcommands: [Create.self, Challenge.self, Prove.self, Claim.self, End.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "create", abstract: "Create a storage contract for a file (the provider co-signs).",
                discussion: "Example: ledgerctl contract storage create --provider bob --file video.mp4 --period 3600 --periods 24 --deposit 1GiB")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @OptionGroup var counterparty: CounterpartyOptions
            @Option(help: ArgumentHelp("Who stores it: ID or local key name.", valueName: "account")) var provider: String
            @Option(help: ArgumentHelp("The content; its 1 KiB segment root is what challenges are proven against.", valueName: "file")) var file: String
            @Option(help: ArgumentHelp("The content's CID (default: CIDv1 raw of the file's SHA-256).", valueName: "cid")) var cid: String?
            @Option(help: ArgumentHelp("Pulses per period.", valueName: "pulses")) var period: UInt64 = 3600
            @Option(help: "Number of periods.") var periods: UInt64 = 24
            @Option(help: ArgumentHelp("The provider's deposit, forfeited in parts for unanswered challenges.", valueName: "amount")) var deposit: String = "0"
            @Option(help: ArgumentHelp("Bandwidth bytes per GiB-day (default: the network's coefficient × 2^30).", valueName: "amount")) var pricePerGibDay: String?

            func run() async throws {
                let content = try ContractCommand.contentFile(file)
                let who = try options.resolve(provider)
                guard let depositAmount = Units.parse(deposit) else { throw CLIError("--deposit '\(deposit)' is not an amount") }
                let identifier = cid ?? "b" + Base32Text.encode([0x01, 0x55, 0x12, 0x20] + SHA256.hash(content).bytes)
                let terms = StorageRules.Terms(
                    provider: who, cid: identifier, size: UInt64(content.count), root: MerkleList.root(StorageContract.segmentLeaves(content)),
                    periodPulses: period, periods: periods, deposit: depositAmount, pricePerGiBDay: try pricePerGibDay.map { try amountOption($0, "price-per-gib-day") })
                try await Submitter(options: options).submitCosigned(type: StorageRules.create, body: terms.body, first: try options.key(), second: who,
                                                                     counterparty: counterparty, wait: !wait.noWait)
            }
        }

        struct Challenge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "challenge", abstract: "As payer, draw this period's segment to be proven.",
                                                            discussion: "Example: ledgerctl contract storage challenge ld1…")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @Argument(help: "Contract ID.") var contract: String
            func run() async throws {
                try await Submitter(options: options).submitAndPrint(type: StorageRules.challenge, body: StorageRules.contractBody(try options.resolve(contract)), wait: wait)
            }
        }

        struct Prove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "prove", abstract: "As provider, answer the open challenge from your copy of the content.",
                discussion: "Example: ledgerctl contract storage prove ld1… --file video.mp4 --as bob")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @Argument(help: "Contract ID.") var contract: String
            @Option(help: ArgumentHelp("Your copy of the content.", valueName: "file")) var file: String

            func run() async throws {
                let id = try options.resolve(contract)
                let view = try await options.client.get("/api/v1/contracts/\(id.text)")
                guard let challenge = view.object("challenge"), (challenge["answered"] as? Bool) == false else {
                    throw CLIError("contract \(id) has no open challenge")
                }
                let content = try ContractCommand.contentFile(file)
                let leaves = StorageContract.segmentLeaves(content)
                guard MerkleList.root(leaves).hex == view.string("root") else { throw CLIError("\(file) is not the content of contract \(id) (segment roots differ)") }
                let index = Int(challenge.uint("segment"))
                let segment = Array(content[(index * StorageContract.segmentBytes)..<min((index + 1) * StorageContract.segmentBytes, content.count)])
                try await Submitter(options: options).submitAndPrint(
                    type: StorageRules.prove, body: StorageRules.proveBody(contract: id, segment: segment, path: MerkleList.path(index, leaves)), wait: wait)
            }
        }

        struct Claim: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "claim", abstract: "Settle the completed periods (pay, or penalize unanswered challenges).",
                                                            discussion: "Example: ledgerctl contract storage claim ld1… --as bob")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @Argument(help: "Contract ID.") var contract: String
            func run() async throws {
                try await Submitter(options: options).submitAndPrint(type: StorageRules.claim, body: StorageRules.contractBody(try options.resolve(contract)), wait: wait)
            }
        }

        struct End: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "end", abstract: "End the contract: completed periods settle, the rest of the escrow returns to the payer.",
                discussion: "Example: ledgerctl contract storage end ld1…")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @Argument(help: "Contract ID.") var contract: String
            func run() async throws {
                try await Submitter(options: options).submitAndPrint(type: StorageRules.end, body: StorageRules.contractBody(try options.resolve(contract)), wait: wait)
            }
        }
    }

    struct Forward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forward", abstract: "Pay a relay per byte it forwards, billed by usage receipts.", subcommands: [Create.self, End.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "create", abstract: "Create a forwarding contract (the relay co-signs).",
                discussion: "Example: ledgerctl contract forward create --relay carol --price-ppm 250000")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @OptionGroup var counterparty: CounterpartyOptions
            @Option(help: ArgumentHelp("The relay: ID or local key name.", valueName: "account")) var relay: String
            @Option(help: "Bandwidth bytes per million bytes relayed.") var pricePpm: UInt64

            func run() async throws {
                let who = try options.resolve(relay)
                try await Submitter(options: options).submitCosigned(type: ForwardRules.create, body: ForwardRules.createBody(relay: who, pricePPM: pricePpm),
                                                                     first: try options.key(), second: who, counterparty: counterparty, wait: !wait.noWait)
            }
        }

        struct End: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "end", abstract: "End a forwarding contract (client or relay).",
                                                            discussion: "Example: ledgerctl contract forward end ld1…")
            @OptionGroup var options: GlobalOptions
            @OptionGroup var wait: WaitOption
            @Argument(help: "Contract ID.") var contract: String
            func run() async throws {
                try await Submitter(options: options).submitAndPrint(type: ForwardRules.end, body: ForwardRules.endBody(contract: try options.resolve(contract)), wait: wait)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List an account's contracts.", discussion: "Example: ledgerctl contract list --party bob")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Whose contracts (default: the --as key's).") var party: String?

        func run() async throws {
            let id = try party.map(options.resolve) ?? options.key().publicKey.id
            let answer = try await options.client.get("/api/v1/contracts?party=\(id.text)")
            options.output(answer) { answer.list("contracts").isEmpty ? "no contracts" : answer.list("contracts").map(ContractCommand.describe).joined(separator: "\n") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a contract.", discussion: "Example: ledgerctl contract show ld1…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Contract ID.") var contract: String

        func run() async throws {
            let view = try await options.client.get("/api/v1/contracts/\(try options.resolve(contract).text)")
            options.output(view) { ContractCommand.describe(view) }
        }
    }
}
