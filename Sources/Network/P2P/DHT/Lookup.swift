import Ledger

/// Kademlia's iterative lookup, shared by the real DHT and the in-process simulation: ask the α closest
/// peers not yet asked for peers closer to the target, in parallel, until the k closest known have all
/// answered (or `done` says the goal is met). Pure apart from the `query` it is given.
public struct KademliaLookup {
    public static let parallelism = 3

    public struct Result: Sendable {
        /// The closest peers that answered, nearest first.
        public var closest: [PeerID]
        /// Rounds of the longest chain of referrals that led to the answer (1 = found among our own peers' answers).
        public var hops: Int
        public var queried: Int
        public var failed: Int
    }

    /// `query` returns the peers a peer names as closer, or nil when it did not answer. `done` may stop the
    /// lookup early (it sees each answering peer and its answer).
    public static func run(target: KadKey, start: [PeerID], count: Int = RoutingTable.bucketSize, parallelism: Int = parallelism,
                           query: @escaping @Sendable (PeerID) async -> [PeerID]?,
                           done: @escaping @Sendable (PeerID, [PeerID]) -> Bool = { _, _ in false }) async -> Result {
        var depth: [PeerID: Int] = [:]
        var distance: [PeerID: Digest] = [:]  // hashed once per peer, not once per comparison
        var candidates: [PeerID] = []
        for peer in start where depth[peer] == nil {
            depth[peer] = 1
            candidates.append(peer)
        }
        var asked: Set<PeerID> = []
        var answered: Set<PeerID> = []
        var failed = 0
        var finishedHops: Int?
        func sortCandidates() {
            for peer in candidates where distance[peer] == nil { distance[peer] = KadKey(peer: peer).distance(to: target) }
            candidates.sort { distance[$0]! < distance[$1]! }
        }
        sortCandidates()
        while finishedHops == nil {
            let window = candidates.prefix(count)
            let batch = window.filter { !asked.contains($0) }.prefix(parallelism)
            if batch.isEmpty { break }
            for peer in batch { asked.insert(peer) }
            let answers = await withTaskGroup(of: (PeerID, [PeerID]?).self) { group in
                for peer in batch { group.addTask { (peer, await query(peer)) } }
                var collected: [(PeerID, [PeerID]?)] = []
                for await answer in group { collected.append(answer) }
                return collected
            }
            for (peer, answer) in answers {
                guard let answer else {
                    failed += 1
                    candidates.removeAll { $0 == peer }
                    continue
                }
                answered.insert(peer)
                let next = (depth[peer] ?? 1) + 1
                for found in answer where depth[found] == nil {
                    depth[found] = next
                    candidates.append(found)
                }
                if done(peer, answer) { finishedHops = depth[peer] ?? 1 }
            }
            sortCandidates()
        }
        let closest = candidates.filter { answered.contains($0) }.prefix(count).map { $0 }
        let hops = finishedHops ?? closest.first.flatMap { depth[$0] } ?? 0
        return Result(closest: Array(closest), hops: hops, queried: asked.count, failed: failed)
    }
}
