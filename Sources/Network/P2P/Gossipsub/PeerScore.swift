/// Gossipsub v1.1 peer scoring, the parts that matter for a ledger (specs/p2p.md §Gossipsub): first
/// deliveries of valid messages (P2, capped), invalid messages (P4, squared) and misbehaviour — a GRAFT
/// while backed off, an IWANT for more than was announced, a broken IHAVE promise (P7, squared). Counters
/// decay each heartbeat, so a past offence fades and an honest past cannot buy much. Pure.
struct PeerScore {
    var firstDeliveries: Double = 0
    var invalidMessages: Double = 0
    var behaviourPenalty: Double = 0

    static let firstDeliveriesCap: Double = 20
    static let firstDeliveryWeight: Double = 0.5
    static let invalidWeight: Double = -10
    static let behaviourWeight: Double = -10
    static let decay: Double = 0.9

    var value: Double {
        min(firstDeliveries, Self.firstDeliveriesCap) * Self.firstDeliveryWeight
            + invalidMessages * invalidMessages * Self.invalidWeight + behaviourPenalty * behaviourPenalty * Self.behaviourWeight
    }

    mutating func decayOnce() {
        firstDeliveries = firstDeliveries * Self.decay < 0.01 ? 0 : firstDeliveries * Self.decay
        invalidMessages = invalidMessages * Self.decay < 0.01 ? 0 : invalidMessages * Self.decay
        behaviourPenalty = behaviourPenalty * Self.decay < 0.01 ? 0 : behaviourPenalty * Self.decay
    }

    /// Below these a peer gets no gossip (IHAVE), none of our published messages, and none of its RPCs
    /// are read (graylisted); go-libp2p-pubsub's scale.
    static let gossipThreshold: Double = -10
    static let publishThreshold: Double = -50
    static let graylistThreshold: Double = -80
}
