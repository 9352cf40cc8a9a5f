/// Kademlia's routing table: peers in buckets by the length of the key prefix they share with us, at
/// most k = 20 per bucket. A full bucket keeps its old, proven peers (Kademlia's preference for
/// long-lived nodes) unless one of them has failed a query. Pure: no I/O, no clock.
public struct RoutingTable: Sendable {
    public static let bucketSize = 20

    public struct Entry: Sendable, Equatable {
        public let peer: PeerID
        public let key: KadKey
        public var failures = 0
    }

    public let local: KadKey
    public let bucketSize: Int
    private var buckets: [[Entry]]

    public init(local: PeerID, bucketSize: Int = RoutingTable.bucketSize) {
        self.local = KadKey(peer: local)
        self.bucketSize = bucketSize
        buckets = Array(repeating: [], count: 257)
    }

    public var count: Int { buckets.reduce(0) { $0 + $1.count } }
    public var peers: [PeerID] { buckets.flatMap { $0.map(\.peer) } }

    func bucketIndex(_ key: KadKey) -> Int { local.commonPrefixLength(with: key) }

    /// Adds or refreshes a peer; returns false when its bucket is full of healthy peers.
    @discardableResult
    public mutating func add(_ peer: PeerID) -> Bool {
        let key = KadKey(peer: peer)
        guard key != local else { return false }
        let index = bucketIndex(key)
        if let position = buckets[index].firstIndex(where: { $0.peer == peer }) {
            var entry = buckets[index].remove(at: position)
            entry.failures = 0
            buckets[index].append(entry)  // most recently seen last
            return true
        }
        if buckets[index].count >= bucketSize {
            guard let failed = buckets[index].firstIndex(where: { $0.failures > 0 }) else { return false }
            buckets[index].remove(at: failed)
        }
        buckets[index].append(Entry(peer: peer, key: key))
        return true
    }

    public mutating func remove(_ peer: PeerID) {
        let index = bucketIndex(KadKey(peer: peer))
        buckets[index].removeAll { $0.peer == peer }
    }

    /// Marks a failed query; a peer failing twice in a row is dropped.
    public mutating func failed(_ peer: PeerID) {
        let index = bucketIndex(KadKey(peer: peer))
        guard let position = buckets[index].firstIndex(where: { $0.peer == peer }) else { return }
        buckets[index][position].failures += 1
        if buckets[index][position].failures >= 2 { buckets[index].remove(at: position) }
    }

    public func contains(_ peer: PeerID) -> Bool { buckets[bucketIndex(KadKey(peer: peer))].contains { $0.peer == peer } }

    /// The `count` known peers closest to `target` by XOR distance.
    public func closest(to target: KadKey, count: Int) -> [PeerID] {
        var all = buckets.flatMap { bucket in bucket.map { (distance: $0.key.distance(to: target), peer: $0.peer) } }
        all.sort { $0.distance < $1.distance }
        return all.prefix(count).map(\.peer)
    }
}
