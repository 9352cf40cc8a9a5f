import Foundation
import Storage

/// Feeds the durable usage ledger from the swarm's counters (specs/usage.md): every round the bytes
/// each peer's streams carried since the last are taken, named by service, and added to the hour; once an
/// hour old hours are rolled into days. A stream protocol that is no service (identify, ping, a
/// negotiation that never finished) is not billed.
public struct UsageRecorder: Sendable {
    public let ledger: UsageLedger
    let traffic: TrafficStats
    /// The gateway's anonymous clients, accounted apart as `anonymous` (nil: not counted).
    public let gateway: GatewayTraffic?

    public init(ledger: UsageLedger, traffic: TrafficStats, gateway: GatewayTraffic? = nil) {
        self.ledger = ledger
        self.traffic = traffic
        self.gateway = gateway
    }

    /// The service a stream protocol is billed as, or nil.
    public static func service(of protocolName: String) -> String? {
        switch protocolName {
        case Bitswap.protocolID: "bitswap"
        case DHT.protocolID: "dht"
        case LedgerPeers.syncProtocol: "block-sync"
        case MiMeiExchange.protocolID: "mimei"
        case Gossipsub.protocolName: "gossip"
        case ConsensusPeers.consensusProtocol: "consensus"
        default: protocolName.hasPrefix("/libp2p/circuit/relay/") ? "forwarding" : nil
        }
    }

    /// Moves what the counters hold into the ledger: served is what this node sent, received what it got.
    public func flush(now: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        var deltas: [String: [String: UsageLedger.Usage]] = [:]
        for (peer, protocols) in traffic.drain() {
            for (name, totals) in protocols {
                guard let service = Self.service(of: name) else { continue }
                deltas[peer.description, default: [:]][service, default: UsageLedger.Usage()].served &+= totals.sent
                deltas[peer.description, default: [:]][service, default: UsageLedger.Usage()].received &+= totals.received
            }
        }
        if let served = gateway?.drain(), served > 0 {
            deltas[GatewayTraffic.account, default: [:]][GatewayTraffic.service, default: UsageLedger.Usage()].served &+= served
        }
        guard !deltas.isEmpty else { return }
        try ledger.add(deltas, now: now)
    }
}
