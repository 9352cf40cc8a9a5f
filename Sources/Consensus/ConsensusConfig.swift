import Ledger

/// Timeouts and the timeliness bound of proposer-based timestamps (specs/consensus.md §Timeouts). Local
/// settings: bookkeepers with different ones still agree, only less quickly.
public struct ConsensusConfig: Sendable, Equatable {
    /// timeoutPropose(r) = proposeMillis + r × proposeDeltaMillis, and so on: growing per round, so that
    /// after the network turns synchronous the timeouts eventually exceed its delays (liveness).
    public var proposeMillis: UInt64 = 1_000
    public var proposeDeltaMillis: UInt64 = 500
    public var prevoteMillis: UInt64 = 500
    public var prevoteDeltaMillis: UInt64 = 250
    public var precommitMillis: UInt64 = 500
    public var precommitDeltaMillis: UInt64 = 250
    /// How far apart honest clocks may be.
    public var precisionMillis: UInt64 = 500
    /// How long a proposal may take to arrive in round 0; it grows by half of itself per round.
    public var messageDelayMillis: UInt64 = 1_000

    public init() {}

    public func duration(of timeout: Tendermint.Timeout) -> UInt64 {
        let round = UInt64(min(timeout.round, 1_000))
        switch timeout.kind {
        case .propose: return proposeMillis + round * proposeDeltaMillis
        case .prevote: return prevoteMillis + round * prevoteDeltaMillis
        case .precommit: return precommitMillis + round * precommitDeltaMillis
        }
    }

    /// A fresh proposal's time is timely when it is at most `precision` ahead of the receiver's clock
    /// and at most `precision + messageDelay(round)` behind it. So a proposer can move the block time,
    /// and with it the pulse, only as far as honest clocks already are.
    public func isTimely(blockTimeMillis: UInt64, receivedAtMillis now: UInt64, round: UInt32) -> Bool {
        let delay = messageDelayMillis + messageDelayMillis * UInt64(min(round, 1_000)) / 2
        return blockTimeMillis <= now &+ precisionMillis && blockTimeMillis &+ precisionMillis &+ delay >= now
    }
}

/// The latest committed block as consensus needs it: its header, the state after it, and the
/// certificate that committed it (nil for block 0), which the next block carries.
public struct ChainTip: Sendable {
    public var header: BlockHeader
    public var state: LedgerState
    public var commit: CommitCertificate?

    public init(header: BlockHeader, state: LedgerState, commit: CommitCertificate?) {
        self.header = header
        self.state = state
        self.commit = commit
    }
}
