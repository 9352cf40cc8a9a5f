/// What Bitswap asks of the node's metering (specs/credit.md §Metering in practice): before it sends a
/// block to a peer, whether that peer may have it; and, as a client, of each wanted block a peer
/// delivered, so that the node signs receipts for what it received.
public protocol BitswapMeter: Sendable {
    /// Whether `bytes` more may go to `peer` now; false answers the want as a block not held.
    func admit(_ peer: PeerID, bytes: Int) async -> Bool
    /// Blocks of `bytes` admitted for `peer` could not be written to it.
    func undelivered(_ peer: PeerID, bytes: Int) async
    /// Why one of `peers` (all of which said no to a want) may have stopped serving this node, or nil.
    func refusal(among peers: Set<PeerID>) async -> String?
    /// `peer` delivered a block of `bytes` this node asked it for (on time or late).
    func delivered(_ peer: PeerID, bytes: Int) async
}
