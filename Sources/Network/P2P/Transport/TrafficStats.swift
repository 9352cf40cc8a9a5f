import Metrics
import NIOConcurrencyHelpers

/// Bytes in and out per peer and per protocol: the accounting hook services bill from. Updated from
/// every stream's reads and writes, so it is a lock, not an actor (no suspension on the data path).
public final class TrafficStats: Sendable {
    public struct Totals: Sendable, Equatable, Codable {
        public var received: UInt64 = 0
        public var sent: UInt64 = 0
    }

    private struct State {
        var byPeer: [PeerID: [String: Totals]] = [:]
        var counters: [String: (received: Counter, sent: Counter)] = [:]
        /// Stream bytes per peer and protocol since the usage ledger last took them (`drain`).
        var undrained: [PeerID: [String: Totals]] = [:]
    }

    private let state = NIOLockedValueBox(State())
    /// Peers kept; beyond this the one with the least traffic is forgotten, so peers that come and go with
    /// new identities cannot grow the table without bound.
    static let maxPeers = 4096

    public init() {}

    /// `protocolName` is the negotiated stream protocol, or "transport" for the wire bytes of a connection
    /// (framing and encryption included).
    public func record(peer: PeerID, protocolName: String, received: Int, sent: Int) {
        guard received > 0 || sent > 0 else { return }
        let name = protocolName.isEmpty ? "negotiating" : protocolName
        let counters: (received: Counter, sent: Counter) = state.withLockedValue { state in
            if state.byPeer[peer] == nil && state.byPeer.count >= Self.maxPeers,
               let smallest = state.byPeer.min(by: { ($0.value["transport"]?.received ?? 0) < ($1.value["transport"]?.received ?? 0) })?.key {
                state.byPeer[smallest] = nil
            }
            state.byPeer[peer, default: [:]][name, default: Totals()].received += UInt64(received)
            state.byPeer[peer, default: [:]][name, default: Totals()].sent += UInt64(sent)
            if name != "transport" {
                state.undrained[peer, default: [:]][name, default: Totals()].received += UInt64(received)
                state.undrained[peer, default: [:]][name, default: Totals()].sent += UInt64(sent)
            }
            if let existing = state.counters[name] { return existing }
            let made = (Counter(label: "ledgerd_p2p_bytes_received_total", dimensions: [("protocol", name)]),
                        Counter(label: "ledgerd_p2p_bytes_sent_total", dimensions: [("protocol", name)]))
            state.counters[name] = made
            return made
        }
        if received > 0 { counters.received.increment(by: received) }
        if sent > 0 { counters.sent.increment(by: sent) }
    }

    /// Moves received bytes from one protocol to another: a stream's first chunk often carries both the
    /// end of its negotiation and the start of its protocol's data.
    func reattribute(peer: PeerID, received: Int, from: String, to: String) {
        guard received > 0 else { return }
        state.withLockedValue { state in
            guard var protocols = state.byPeer[peer], let moved = protocols[from].map({ min($0.received, UInt64(received)) }) else { return }
            protocols[from]!.received -= moved
            protocols[to, default: Totals()].received += moved
            state.byPeer[peer] = protocols
            if var pending = state.undrained[peer], let undrained = pending[from].map({ min($0.received, moved) }) {
                pending[from]!.received -= undrained
                pending[to, default: Totals()].received += undrained
                state.undrained[peer] = pending
            }
        }
    }

    /// The stream bytes per peer and protocol since the last call (for the durable usage ledger).
    public func drain() -> [PeerID: [String: Totals]] {
        state.withLockedValue { state in
            defer { state.undrained = [:] }
            return state.undrained
        }
    }

    /// Per-peer, per-protocol totals in Prometheus text format, for /metrics.
    public func prometheusText() -> String {
        let snapshot = state.withLockedValue { $0.byPeer }
        var lines = ["# TYPE ledgerd_p2p_peer_bytes_received_total counter"]
        var sent = ["# TYPE ledgerd_p2p_peer_bytes_sent_total counter"]
        for (peer, protocols) in snapshot.sorted(by: { $0.key < $1.key }) {
            for (name, totals) in protocols.sorted(by: { $0.key < $1.key }) {
                // Protocol IDs come from peers: keep label values to a safe character set.
                let label = String(name.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || "0123456789/._-".unicodeScalars.contains($0)) }.prefix(64))
                lines.append("ledgerd_p2p_peer_bytes_received_total{peer=\"\(peer)\",protocol=\"\(label)\"} \(totals.received)")
                sent.append("ledgerd_p2p_peer_bytes_sent_total{peer=\"\(peer)\",protocol=\"\(label)\"} \(totals.sent)")
            }
        }
        return (lines + sent).joined(separator: "\n") + "\n"
    }

    public func byProtocol(of peer: PeerID) -> [String: Totals] { state.withLockedValue { $0.byPeer[peer] ?? [:] } }

    public func total(of peer: PeerID) -> Totals {
        byProtocol(of: peer)["transport"] ?? Totals()
    }
}
