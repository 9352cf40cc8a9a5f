import ArgumentParser
import Credit
import Foundation
import Ledger

struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt", abstract: "Usage receipts: sign (as consumer), ack (as provider), verify, settle, dispute, finalize.",
        subcommands: [Sign.self, Acknowledge.self, Verify.self, Settle.self, Dispute.self, Finalize.self])

    /// A dispute's evidence file: a receipt file, or `{"ack": "<hex of the acknowledgement's DAG-CBOR>"}`.
    static func readEvidence(_ path: String) throws -> CBOR {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw CLIError("\(path) is not a JSON file") }
        if let hex = object["ack"] as? String {
            guard let bytes = Hex.decode(hex) else { throw CLIError("\(path): 'ack' is not hex") }
            do { return SettlementRules.disputeBody(acknowledgement: try ReceiptAcknowledgement(encoded: bytes)) } catch {
                throw CLIError("\(path): the acknowledgement does not decode: \(error)")
            }
        }
        return SettlementRules.body(try read(path))
    }

    /// A receipt file: `{"receipt": "<hex of the signed receipt's DAG-CBOR>"}`.
    static func read(_ path: String) throws -> SignedReceipt {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let hex = object["receipt"] as? String,
            let bytes = Hex.decode(hex)
        else { throw CLIError("\(path) is not a receipt file ({\"receipt\": hex})") }
        do { return try SignedReceipt(encoded: bytes) } catch { throw CLIError("\(path): the receipt does not decode: \(error)") }
    }

    static func view(_ signed: SignedReceipt) -> [String: Any] {
        let receipt = signed.receipt
        var view: [String: Any] = [
            "id": receipt.streamKey.text, "stream": receipt.streamKey.text, "provider": receipt.provider.text, "consumer": receipt.consumer.text,
            "service": receipt.service.rawValue, "sequence": receipt.sequence, "units": receipt.units, "chain": receipt.chain,
            "receipt": Hex.encode(signed.encoded),
        ]
        if let contract = receipt.contract { view["contract"] = contract.text }
        return view
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign", abstract: "As the consumer, sign a cumulative receipt for a provider's service.",
            discussion: "Example: ledgerctl receipt sign --provider node --units 5GiB --sequence 3 --out r3.json --as alice")
        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("The provider: ID or local key name.", valueName: "account")) var provider: String
        @Option(help: "bandwidth, storage (byte-days), cpu (seconds) or forward (bytes relayed).") var service: String = "bandwidth"
        @Option(help: ArgumentHelp("The forwarding contract, for service forward.", valueName: "id")) var contract: String?
        @Option(help: "Receipt number; each new receipt takes a higher one.") var sequence: UInt64
        @Option(help: ArgumentHelp("Units used so far, in total (cumulative).", valueName: "amount")) var units: String
        @Option(help: ArgumentHelp("Write the receipt file here.", valueName: "file")) var out: String

        func run() async throws {
            guard let service = Service(rawValue: service) else { throw CLIError("--service must be bandwidth, storage, cpu or forward") }
            guard let total = Units.parse(units) else { throw CLIError("--units '\(units)' is not a number") }
            let chain = try await options.client.get("/api/v1/status").string("chain")
            let receipt = UsageReceipt(chain: chain, provider: try options.resolve(provider), consumer: try options.key().publicKey.id, service: service,
                                       contract: try contract.map(options.resolve), sequence: sequence, units: total)
            do { _ = try UsageReceipt(cbor: receipt.cbor) } catch { throw CLIError("\(error)") }
            let signed = SignedReceipt(receipt: receipt, key: try options.key())
            let data = try JSONSerialization.data(withJSONObject: ["receipt": Hex.encode(signed.encoded)], options: [.prettyPrinted])
            guard FileManager.default.createFile(atPath: out, contents: data) else { throw CLIError("cannot write \(out)") }
            var view = ReceiptCommand.view(signed)
            view["file"] = out
            options.output(view) { "signed receipt \(sequence) for \(total) units of \(service.rawValue) → \(out)" }
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack", abstract: "As the provider, acknowledge a consumer's receipt (the consumer's evidence if you later settle more).",
            discussion: "Example: ledgerctl receipt ack r3.json --out a3.json")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Receipt file (signed by the consumer).") var file: String
        @Option(help: ArgumentHelp("Write the acknowledgement file here.", valueName: "file")) var out: String

        func run() async throws {
            let signed = try ReceiptCommand.read(file)
            do { try signed.verify() } catch { throw CLIError("invalid receipt: \(error)") }
            let key = try options.key()
            guard key.publicKey.id == signed.receipt.provider else {
                throw CLIError("the receipt's provider is \(signed.receipt.provider); acknowledge it with that key (--as)")
            }
            let ack = ReceiptAcknowledgement(receipt: signed.receipt, providerKey: key)
            let data = try JSONSerialization.data(withJSONObject: ["ack": Hex.encode(ack.encoded)], options: [.prettyPrinted])
            guard FileManager.default.createFile(atPath: out, contents: data) else { throw CLIError("cannot write \(out)") }
            var view = ReceiptCommand.view(signed)
            view["file"] = out
            options.output(view) { "acknowledged receipt \(signed.receipt.sequence) at \(signed.receipt.units) units -> \(out)" }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check a receipt's signature, and what a provider's meter would do with it.",
            discussion: "Example: ledgerctl receipt verify r3.json --pay-threshold 80 --disconnect-threshold 100")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Receipt file.") var file: String
        @Option(help: "Settle once owed plus unsettled usage passes this percent of the line.") var payThreshold: UInt64 = 80
        @Option(help: "Stop serving past this percent of the line.") var disconnectThreshold: UInt64 = 100
        @Flag(help: "Only check the signature; do not ask the node about the line.") var offline = false

        func run() async throws {
            let signed = try ReceiptCommand.read(file)
            do { try signed.verify() } catch { throw CLIError("invalid receipt: \(error)") }
            var view = ReceiptCommand.view(signed)
            view["valid"] = true
            guard !offline else { return options.output(view) { "valid: signed by the consumer \(signed.receipt.consumer)" } }
            let receipt = signed.receipt
            let client = try options.client
            let line = try await client.find("/api/v1/credit-lines/\(receipt.provider.text)/\(receipt.consumer.text)")
            let settled = try await client.get("/api/v1/settlements?party=\(receipt.provider.text)").list("settlements")
                .first { $0.string("id") == receipt.streamKey.text }
            let unsettled = receipt.units > (settled?.uint("units") ?? 0) ? receipt.units - (settled?.uint("units") ?? 0) : 0
            let meter = ServiceMeter(payThresholdPPM: payThreshold * 10_000, disconnectThresholdPPM: disconnectThreshold * 10_000)
            let decision = meter.decide(limit: line?.uint("effective_limit") ?? 0, owed: line?.uint("owed") ?? 0, unsettled: unsettled)
            view["unsettled_units"] = unsettled
            view["decision"] = decision.rawValue
            options.output(view) { "valid: signed by the consumer \(receipt.consumer)\n\(unsettled) units not yet settled; the provider's meter says: \(decision.rawValue)" }
        }
    }

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "settle", abstract: "Settle a receipt on the ledger (provider or consumer); it stays open to challenge for the publicity window.",
            discussion: "Example: ledgerctl receipt settle r3.json")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Receipt file.") var file: String

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(type: SettlementRules.settle, body: SettlementRules.body(try ReceiptCommand.read(file)), wait: wait)
        }
    }

    struct Dispute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dispute", abstract: "Challenge the other side's pending settlement with evidence it signed.",
            discussion: "A provider disputes with a receipt showing more use than the consumer settled; a consumer with the provider's "
                + "acknowledgement of fewer units for a receipt at least as new. Evidence that proves nothing costs your deposit.\n"
                + "Example: ledgerctl receipt dispute r7.json   (provider);   ledgerctl receipt dispute a4.json --as alice   (consumer)")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Receipt file (provider) or acknowledgement file (consumer).") var file: String

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(type: SettlementRules.dispute, body: try ReceiptCommand.readEvidence(file), wait: wait)
        }
    }

    struct Finalize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "finalize", abstract: "Close a settlement whose publicity window has passed (returns the deposit).",
            discussion: "Example: ledgerctl receipt finalize ld1…(stream)")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "The stream's ID (from receipt verify or the account page).") var stream: String

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(type: SettlementRules.finalize, body: SettlementRules.finalizeBody(stream: try options.resolve(stream)), wait: wait)
        }
    }
}
