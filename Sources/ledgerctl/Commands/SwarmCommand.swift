import ArgumentParser
import Foundation
import Ledger

/// `ledgerctl swarm …`, after Leither's (seeds 000): this node's libp2p identity, addresses and peers.
struct SwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm", abstract: "The node's peer-to-peer connections.",
        subcommands: [Local.self, Addrs.self, Peers.self, Connect.self, Disconnect.self])

    struct Local: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "local", abstract: "This node's peer ID and the addresses it advertises.",
                                                        discussion: "Example: ledgerctl swarm local")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let view = try await options.client.get("/api/v1/swarm/local")
            options.output(view) {
                (["peer id    \(view.string("peer_id"))", "ledger id  \(view.string("ledger_id"))"]
                    + (view["addresses"] as? [String] ?? []).map { "address    \($0)" }).joined(separator: "\n")
            }
        }
    }

    struct Addrs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "addrs", abstract: "The address book: every known peer and its addresses.",
                                                        discussion: "Example: ledgerctl swarm addrs")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let view = try await options.client.get("/api/v1/swarm/addrs")
            options.output(view) {
                let peers = view["peers"] as? [String: [String: Any]] ?? [:]
                if peers.isEmpty { return "no known peers" }
                // As Leither prints it: the peer, its address count, then each address indented.
                return peers.keys.sorted().map { peer in
                    let addresses = peers[peer]?["addresses"] as? [String] ?? []
                    return (["\(peer) (\(addresses.count))"] + addresses.map { "        \($0)" }).joined(separator: "\n")
                }.joined(separator: "\n")
            }
        }
    }

    struct Peers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "peers", abstract: "Connected peers with bytes in and out, per protocol.",
                                                        discussion: "Example: ledgerctl swarm peers")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let view = try await options.client.get("/api/v1/swarm/peers")
            options.output(view) {
                let peers = view.list("peers")
                var lines = peers.isEmpty ? ["no connected peers"] : []
                for peer in peers {
                    lines.append("\(peer.string("address"))  \(peer.string("direction"))  in \(Units.display(peer.uint("bytes_in")))  out \(Units.display(peer.uint("bytes_out")))  \(peer.string("agent"))")
                    let protocols = peer["protocols"] as? [String: [String: Any]] ?? [:]
                    for name in protocols.keys.sorted() {
                        lines.append("    \(name.padding(toLength: 22, withPad: " ", startingAt: 0)) in \(Units.display(protocols[name]!.uint("bytes_in")))  out \(Units.display(protocols[name]!.uint("bytes_out")))")
                    }
                }
                for ban in view.list("banned") { lines.append("banned \(ban.string("peer_id")): \(ban.string("reason"))") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "connect", abstract: "Dial a peer by its multiaddr.",
                                                        discussion: "Example: ledgerctl swarm connect /ip4/127.0.0.1/tcp/7650/p2p/16Uiu2HAm…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Multiaddr ending in /p2p/<peer-id>.") var address: String

        func run() async throws {
            guard address.hasPrefix("/"), address.contains("/p2p/") else { throw CLIError("'\(address)' is not a multiaddr ending in /p2p/<peer-id>") }
            let view = try await options.client.post("/api/v1/admin/swarm/connect", ["address": address], admin: true)
            options.output(view) { "connected to \(view.string("peer_id"))" }
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Close every connection to a peer.",
                                                        discussion: "Example: ledgerctl swarm disconnect 16Uiu2HAm…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Peer ID.") var peer: String

        func run() async throws {
            let view = try await options.client.post("/api/v1/admin/swarm/disconnect", ["peer": peer], admin: true)
            options.output(view) { "disconnected from \(view.string("peer_id"))" }
        }
    }
}
