/// Who proposes at a height and round: CometBFT's weighted round-robin (each member's priority grows
/// by its power every step, and the highest, ties to the earlier in the set, proposes and falls back by
/// the total power), so over any `totalPower` consecutive steps each member proposes exactly its power's
/// worth of times. Step k = height + round, counted from all priorities zero, so the proposer of any
/// height and round follows from the set alone (specs/consensus.md §Proposer).
extension BookkeeperSet {
    public func proposer(height: UInt64, round: UInt32) -> PublicKey? {
        guard !keys.isEmpty else { return nil }
        let total = totalPower
        let step = (height % total + UInt64(round) % total) % total
        var priorities = [Int64](repeating: 0, count: keys.count)
        var chosen = 0
        for _ in 0...step {
            for index in keys.indices { priorities[index] += Int64(powers[index]) }
            chosen = priorities.indices.max { priorities[$0] < priorities[$1] || (priorities[$0] == priorities[$1] && $0 > $1) } ?? 0
            priorities[chosen] -= Int64(total)
        }
        return keys[chosen]
    }
}
