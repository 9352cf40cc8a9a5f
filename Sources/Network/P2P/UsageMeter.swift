/// What the metered services — Bitswap and the DHT — ask of the node's metering (specs/credit.md
/// §Metering in practice): before they serve a peer, whether that peer may have `bytes` more (a block's
/// size, or the genesis price of one DHT answer); and, as a client, what each peer delivered, so that the
/// node signs receipts for what it received.
public protocol UsageMeter: Sendable {
    /// Whether `bytes` more may go to `peer` now; false answers the want as a block not held, or refuses the query.
    func admit(_ peer: PeerID, bytes: Int) async -> Bool
    /// Service of `bytes` admitted for `peer` could not be written to it.
    func undelivered(_ peer: PeerID, bytes: Int) async
    /// Why one of `peers` (all of which said no to a want) may have stopped serving this node, or nil.
    func refusal(among peers: Set<PeerID>) async -> String?
    /// `peer` delivered service of `bytes` this node asked it for (a block on time or late, a DHT answer).
    func delivered(_ peer: PeerID, bytes: Int) async
}
