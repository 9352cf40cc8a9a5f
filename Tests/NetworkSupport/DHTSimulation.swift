import Foundation
import Ledger
import LedgerNetwork

/// Many Kademlia nodes in one process, for the churn test and the benchmark: nodes join the way real
/// ones do (through one known node, then a lookup of their own ID), then a share leaves without
/// notice. Lookups run the daemon's own KademliaLookup; only the network between nodes is simulated.
public final class DHTSimulation: @unchecked Sendable {
    public struct Outcome: Sendable {
        public let lookups: Int
        public let found: Int
        public let meanHops: Double
        public let maxHops: Int
        public var successRate: Double { Double(found) / Double(lookups) }
    }

    private let lock = NSLock()
    private var tables: [PeerID: RoutingTable] = [:]
    private var offline: Set<PeerID> = []
    public private(set) var nodes: [PeerID] = []

    public init() {}

    /// Builds a network of `count` nodes with keys from `seed`.
    public func build(count: Int, seed: UInt64) async {
        var generator = SeededGenerator(seed: seed)
        for index in 0..<count {
            var node: PeerID?
            while node == nil {
                node = (try? SecretKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))?.peerID
            }
            let peer = node!
            lock.withLock { tables[peer] = RoutingTable(local: peer) }
            if index > 0 {
                learn(peer, [nodes[Int.random(in: 0..<index, using: &generator)]])
                _ = await lookup(from: peer, target: KadKey(peer: peer))
            }
            nodes.append(peer)
        }
    }

    /// Takes `share` of the nodes offline, chosen by `seed`; their entries stay in everyone's tables.
    public func churn(share: Double, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let leaving = nodes.shuffled(using: &generator).prefix(Int(Double(nodes.count) * share))
        lock.withLock { offline = Set(leaving) }
    }

    /// Looks up random online targets from random online nodes; a lookup succeeds when some peer names the target.
    public func measure(lookups: Int, seed: UInt64) async -> Outcome {
        var generator = SeededGenerator(seed: seed)
        let online = lock.withLock { nodes.filter { !offline.contains($0) } }
        var found = 0, hops: [Int] = []
        for _ in 0..<lookups {
            let from = online.randomElement(using: &generator)!, target = online.randomElement(using: &generator)!
            if from == target { found += 1; hops.append(0); continue }
            let (result, hit) = await lookup(from: from, target: KadKey(peer: target), wanted: target)
            if hit {
                found += 1
                hops.append(result.hops)
            }
        }
        return Outcome(lookups: lookups, found: found, meanHops: Double(hops.reduce(0, +)) / Double(max(1, hops.count)), maxHops: hops.max() ?? 0)
    }

    private func findNode(asker: PeerID, peer: PeerID, target: KadKey) -> [PeerID]? {
        lock.withLock {
            guard !offline.contains(peer), var table = tables[peer] else { return nil }
            table.add(asker)  // as a real node does with whoever queries it
            tables[peer] = table
            return table.closest(to: target, count: RoutingTable.bucketSize)
        }
    }

    private func learn(_ node: PeerID, _ peers: [PeerID]) {
        lock.withLock { for peer in peers { tables[node]?.add(peer) } }
    }

    private func lookup(from node: PeerID, target: KadKey, wanted: PeerID? = nil) async -> (KademliaLookup.Result, Bool) {
        let hit = DoneFlag()
        let start = lock.withLock { tables[node]!.closest(to: target, count: RoutingTable.bucketSize) }
        let result = await KademliaLookup.run(target: target, start: start, query: { peer in
            // The simulation is all computation; yielding per query keeps it from starving other tasks
            // on the cooperative pool (a test process runs real swarms beside it).
            await Task.yield()
            let answer = self.findNode(asker: node, peer: peer, target: target)
            if let answer { self.learn(node, answer + [peer]) }
            return answer
        }, done: { peer, answer in
            if let wanted, peer == wanted || answer.contains(wanted) { hit.set() }
            return hit.isSet
        })
        return (result, hit.isSet)
    }
}
