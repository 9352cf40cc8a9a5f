import ArgumentParser
import Foundation
import Ledger

/// `ledgerctl dht …`, after Leither's (seeds 000): peer and provider lookups and signed records.
struct DHTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht", abstract: "Look things up in the Kademlia DHT.",
        subcommands: [FindPeer.self, FindProviders.self, Provide.self, Get.self, Put.self])

    struct FindPeer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "findpeer", abstract: "Find a peer's addresses.",
                                                        discussion: "Example: ledgerctl dht findpeer 16Uiu2HAm…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Peer ID.") var peer: String

        func run() async throws {
            let view = try await options.client.get("/api/v1/dht/peers/\(peer)", admin: true)
            options.output(view) { ((view["addresses"] as? [String]) ?? []).joined(separator: "\n") }
        }
    }

    struct FindProviders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "findprovs", abstract: "Find the peers that provide a key.",
                                                        discussion: "Example: ledgerctl dht findprovs bafkrei…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A CID, or 64 hex characters (a SHA-256).") var key: String

        func run() async throws {
            let view = try await options.client.get("/api/v1/dht/providers/\(key)", admin: true)
            options.output(view) {
                let providers = view.list("providers")
                return providers.isEmpty ? "no providers found" : providers.map { $0.string("peer_id") }.joined(separator: "\n")
            }
        }
    }

    struct Provide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "provide", abstract: "Announce this node as a provider of a key.",
                                                        discussion: "Example: ledgerctl dht provide bafkrei…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A CID, or 64 hex characters (a SHA-256).") var key: String

        func run() async throws {
            let view = try await options.client.post("/api/v1/admin/dht/provide", ["key": key], admin: true)
            options.output(view) { "announced to \(view.string("told")) peers" }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Fetch the newest signed record for a key.",
                                                        discussion: "Example: ledgerctl dht get /ledgerd/addr/ld1…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "/ledgerd/org/<id> or /ledgerd/addr/<id> (MiMei heads: ledgerctl mimei publish).") var key: String

        func run() async throws {
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
            let view = try await options.client.get("/api/v1/dht/value?key=\(encoded)", admin: true)
            options.output(view) { "\(view.string("value"))\n(seq \(view.string("seq")), signed by \(view.string("signer")))" }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put", abstract: "Sign a file's contents as the record for a key and store it in the DHT.",
            discussion: "The record is signed with --as (default: the node's key), whose ID must be the one in the key.\nExample: ledgerctl dht put /ledgerd/addr/ld1… addresses.txt")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "/ledgerd/org/<id> or /ledgerd/addr/<id> (MiMei heads: ledgerctl mimei publish).") var key: String
        @Argument(help: "File with the value (at most 16 KiB).") var file: String

        func run() async throws {
            if key.hasPrefix("/ledgerd/mimei/") { throw CLIError("a MiMei's head is published with 'ledgerctl mimei publish <MiMei ID>'") }
            guard let owner = DHTRecord.owner(of: key) else { throw CLIError(DHTRecordError.unknownNamespace.description) }
            let signer = try options.key()
            guard signer.publicKey.id == owner else { throw CLIError("key '\(options.signer)' is \(signer.publicKey.id), but \(key) belongs to \(owner)") }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            guard data.count <= DHTRecord.maxValue else { throw CLIError("\(file) is \(data.count) bytes; a record holds at most \(DHTRecord.maxValue)") }
            // The next sequence number: one above the newest record the network has.
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
            let current = try await options.client.find("/api/v1/dht/value?key=\(encoded)", admin: true)
            let record = DHTRecord(key: key, value: Array(data), seq: (current?.uint("seq") ?? 0) + 1, signer: signer)
            let view = try await options.client.post("/api/v1/admin/dht/value", ["record": Hex.encode(record.encoded)], admin: true)
            options.output(view) { "stored \(key) seq \(view.string("seq")) on \(view.string("stored_on")) peers" }
        }
    }
}
