import ArgumentParser
import Foundation

/// `ledgerctl usage [PEER]`: bytes served to and received from peers, per service, from the node's
/// durable usage ledger (specs/usage.md).
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Bytes served to and received from each peer, per service (durable; hours, then days).",
        discussion: "Without a peer: every peer's totals. With one: its windows, oldest first. Services: bitswap, dht, block-sync, mimei, gossip, consensus, forwarding.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A peer ID (or 'others', the peers past a day's limit; 'anonymous', the gateway's browsers).") var peer: String?

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
            if let gateway = view["gateway"] as? [String: Any] {
                let today = gateway["today"] as? [String: Any] ?? [:]
                var line = "gateway, anonymous clients (not a peer): \(Self.bytes(gateway["served"]).trimmingCharacters(in: .whitespaces)) bytes served"
                if !today.isEmpty { line += "; today \(Self.bytes(today["served"]).trimmingCharacters(in: .whitespaces)) to \(today["clients"] ?? 0) addresses, \(today["refused"] ?? 0) refused" }
                if let allowance = gateway["allowance_per_client"] { line += "; allowance \(allowance) per address a day" }
                if let limit = gateway["daily_limit"] { line += "; limit \(limit) a day" }
                lines.append(line)
            }
            print(peers.isEmpty && lines.count == 2 ? "no peer usage recorded yet\n" + lines[1] : lines.joined(separator: "\n"))
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
