import Ledger

/// Messages this node has already seen (gossiped transactions, announced blocks), with the peers each came
/// from: a message seen before is neither checked nor relayed again, and a relay never goes back to a
/// peer that sent it. Bounded: the oldest entries are forgotten first, each entry remembers at most
/// `originsMax` peers. Pure: no I/O, no clock.
struct SeenCache {
    static let originsMax = 8

    let capacity: Int
    private var origins: [Digest: [PeerID]] = [:]
    private var order: [Digest] = []  // oldest first, from `head`
    private var head = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { origins.count }

    /// Records `key` as seen (from `peer`, when it came from one); true when it is new.
    @discardableResult
    mutating func insert(_ key: Digest, from peer: PeerID? = nil) -> Bool {
        if var known = origins[key] {
            if let peer, !known.contains(peer), known.count < Self.originsMax {
                known.append(peer)
                origins[key] = known
            }
            return false
        }
        if origins.count >= capacity {
            origins[order[head]] = nil
            head += 1
            if head >= capacity {  // compact now and then, not on every eviction
                order.removeFirst(head)
                head = 0
            }
        }
        origins[key] = peer.map { [$0] } ?? []
        order.append(key)
        return true
    }

    func contains(_ key: Digest) -> Bool { origins[key] != nil }

    /// The peers `key` came from (never relay it to them).
    func sources(of key: Digest) -> [PeerID] { origins[key] ?? [] }
}
