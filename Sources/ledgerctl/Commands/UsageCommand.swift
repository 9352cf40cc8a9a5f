import ArgumentParser
import Foundation

/// `ledgerctl usage [PEER]`: bytes served to and received from peers, per service, from the node's
/// durable usage ledger (specs/usage.md).
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Bytes served to and received from each peer, per service (durable; hours, then days).",
        discussion: "Without a peer: every peer's totals. With one: its windows, oldest first. Services: bitswap, dht, block-sync, mimei, gossip, consensus, forwarding.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A peer ID (or 'others', the peers past a day's limit).") var peer: String?

    func run() async throws {
        let client = try options.client
        guard let peer else {
            let view = try await client.get("/api/v1/usage")
            let peers = view.list("peers")
            if options.json { print(JSONText.render(view)); return }
            var lines = ["PEER                                                   SERVICE       SERVED        RECEIVED"]
            for row in peers {
                let services = (row["services"] as? [String: [String: Any]]) ?? [:]
                for (service, usage) in services.sorted(by: { $0.key < $1.key }) {
                    lines.append(Self.line(row.string("peer"), service, usage["served"], usage["received"]))
                }
            }
            print(peers.isEmpty ? "no usage recorded yet" : lines.joined(separator: "\n"))
            return
        }
        guard let view = try await client.find("/api/v1/usage/\(peer.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")") else {
            throw CLIError("no usage recorded for peer \(peer.prefix(64))")
        }
        if options.json { print(JSONText.render(view)); return }
        let formatter = ISO8601DateFormatter()
        var lines = ["WINDOW                 SPAN  SERVICE       SERVED        RECEIVED"]
        for window in view.list("windows") {
            let start = formatter.string(from: Date(timeIntervalSince1970: Double(window["start"] as? Int ?? 0)))
            let span = (window["span"] as? Int) == 86_400 ? "day " : "hour"
            lines.append("\(start)  \(span)  \(window.string("service").padding(toLength: 12, withPad: " ", startingAt: 0))  \(Self.bytes(window["served"]))  \(Self.bytes(window["received"]))")
        }
        print(lines.joined(separator: "\n"))
    }

    static func bytes(_ value: Any?) -> String {
        let count = (value as? Int) ?? Int((value as? UInt64) ?? 0)
        return String(count).padding(toLength: 12, withPad: " ", startingAt: 0)
    }

    static func line(_ peer: String, _ service: String, _ served: Any?, _ received: Any?) -> String {
        "\(peer.padding(toLength: 54, withPad: " ", startingAt: 0)) \(service.padding(toLength: 12, withPad: " ", startingAt: 0))  \(bytes(served))  \(bytes(received))"
    }
}
