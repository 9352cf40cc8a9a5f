import Ledger

/// A point in the Kademlia key space: SHA-256 of a key's bytes (for a peer, of its peer ID's bytes), as
/// libp2p's kad-dht defines it; distance is XOR. Ledger IDs stay 160-bit; they enter the DHT as keys.
public struct KadKey: Hashable, Sendable, Comparable {
    public let digest: Digest

    public init(hashing bytes: [UInt8]) { digest = SHA256.hash(bytes) }
    public init(peer: PeerID) { self.init(hashing: peer.bytes) }
    public init(digest: Digest) { self.digest = digest }

    /// XOR distance, itself a key-space value (compared as a big-endian number).
    public func distance(to other: KadKey) -> Digest { digest.xor(other.digest) }

    /// Leading bits shared with `other` (256 when equal): the routing table's bucket index.
    public func commonPrefixLength(with other: KadKey) -> Int {
        let a = digest.bytes, b = other.digest.bytes
        for index in 0..<32 where a[index] != b[index] {
            return index * 8 + (a[index] ^ b[index]).leadingZeroBitCount
        }
        return 256
    }

    public static func < (a: KadKey, b: KadKey) -> Bool { a.digest < b.digest }
}
