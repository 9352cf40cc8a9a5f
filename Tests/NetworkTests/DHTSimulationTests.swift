import Foundation
import Ledger
import Testing
@testable import LedgerNetwork

/// 1,000 Kademlia nodes in one process, built the way real nodes join (through one known node, then a
/// lookup of their own ID), then 20 % of them leave without notice. Lookups use the same
/// KademliaLookup code as the daemon's DHT; only the network is simulated.
@Suite struct DHTSimulationTests {
    final class SimulatedNetwork: @unchecked Sendable {
        let lock = NSLock()
        var tables: [PeerID: RoutingTable] = [:]
        var offline: Set<PeerID> = []

        /// FIND_NODE as a peer answers it: its closest known peers; it also learns the asker.
        func findNode(asker: PeerID, peer: PeerID, target: KadKey) -> [PeerID]? {
            lock.withLock {
                guard !offline.contains(peer), var table = tables[peer] else { return nil }
                table.add(asker)
                tables[peer] = table
                return table.closest(to: target, count: RoutingTable.bucketSize)
            }
        }

        func learn(_ node: PeerID, _ peers: [PeerID]) {
            lock.withLock { for peer in peers { tables[node]?.add(peer) } }
        }

        func start(_ node: PeerID, target: KadKey) -> [PeerID] {
            lock.withLock { tables[node]!.closest(to: target, count: RoutingTable.bucketSize) }
        }

        /// Returns the lookup's result and whether `wanted` was named by a peer or answered itself.
        func lookup(from node: PeerID, target: KadKey, stopAt wanted: PeerID? = nil) async -> (KademliaLookup.Result, Bool) {
            let hit = DoneFlag()
            let result = await KademliaLookup.run(target: target, start: start(node, target: target), query: { peer in
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

    static func peers(_ count: Int, seed: UInt64) -> [PeerID] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            while true {
                let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if let key = try? SecretKey(bytes: bytes) { return key.peerID }
            }
        }
    }

    @Test func lookupsSucceedUnderChurnInLogarithmicHops() async {
        let count = 1000
        let nodes = Self.peers(count, seed: 5)
        let network = SimulatedNetwork()
        for (index, node) in nodes.enumerated() {
            network.tables[node] = RoutingTable(local: node)
            guard index > 0 else { continue }
            // Join through one node already in the network, then look up our own ID.
            let bootstrap = nodes[Int.random(in: 0..<index, using: &SeededGeneratorBox.shared.generator)]
            network.learn(node, [bootstrap])
            _ = await network.lookup(from: node, target: KadKey(peer: node))
        }
        // 20 % leave without notice: their entries stay in everyone's tables.
        var generator = SeededGenerator(seed: 9)
        let leaving = Set(nodes.shuffled(using: &generator).prefix(count / 5))
        network.offline = leaving
        let online = nodes.filter { !leaving.contains($0) }

        var found = 0, hops: [Int] = []
        let lookups = 500
        for _ in 0..<lookups {
            let from = online.randomElement(using: &generator)!, target = online.randomElement(using: &generator)!
            guard from != target else { found += 1; continue }
            let (result, hit) = await network.lookup(from: from, target: KadKey(peer: target), stopAt: target)
            if hit {
                found += 1
                hops.append(result.hops)
            }
        }
        let successRate = Double(found) / Double(lookups)
        let meanHops = Double(hops.reduce(0, +)) / Double(max(1, hops.count))
        let log2N = log2(Double(count))
        #expect(successRate >= 0.99, "lookups found their target in \(successRate * 100) % of cases")
        #expect(meanHops <= log2N, "mean hops \(meanHops) above log2(N) = \(log2N)")
        #expect((hops.max() ?? 0) <= Int(log2N.rounded(.up)) + 2, "longest lookup took \(hops.max() ?? 0) hops")
    }
}

/// A seeded generator shared by the join loop (joins are sequential).
final class SeededGeneratorBox: @unchecked Sendable {
    static let shared = SeededGeneratorBox()
    var generator = SeededGenerator(seed: 7)
}
