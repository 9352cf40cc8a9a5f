/// The election (specs/consensus.md §Election): at the first block of a new cycle, the candidates whose
/// bond stands at `bondMinimum` or more and who signed at least `performanceMinPercent` of the
/// certificates they could have in the last cycle are ranked by bond × Proof of Performance, and the top
/// `bookkeepersMax` become the set, with power bond ÷ `bondMinimum` (1…`BookkeeperSet.powerMax`). The
/// block names the new set as its next one, so it signs from the next height. With no candidate the set
/// stays: a chain always has bookkeepers.
public enum Election {
    public struct Candidate: Equatable, Sendable {
        public let key: PublicKey
        public let bonded: UInt64
        /// Signed share in the last cycle, in thousandths (1000 for a newcomer).
        public let permille: UInt64
        public let eligible: Bool

        /// bond × performance, in 128 bits so that no bond overflows it.
        var score: UInt128 { UInt128(bonded) * UInt128(permille) }
    }

    /// Every bonded key as the election sees it, best first (score, then bond, then key).
    public static func candidates(bonds: Bonds, performance: Performance, parameters: ChainParameters) -> [Candidate] {
        bonds.entries.filter { $0.bonded >= parameters.bondMinimum }.map { entry in
            let record = performance.entry(entry.key)
            let permille = record?.permille ?? 1000
            // Chronic absence: too few of the certificates it could have signed.
            let eligible = record.map { $0.heights == 0 || UInt128($0.signed) * 100 >= UInt128($0.heights) * UInt128(parameters.performanceMinPercent) } ?? true
            return Candidate(key: entry.key, bonded: entry.bonded, permille: permille, eligible: eligible)
        }.sorted { ($0.score, $0.bonded) != ($1.score, $1.bonded) ? ($0.score, $0.bonded) > ($1.score, $1.bonded) : $0.key < $1.key }
    }

    /// The set the candidates elect; nil when none is eligible.
    public static func elect(bonds: Bonds, performance: Performance, parameters: ChainParameters) -> BookkeeperSet? {
        let elected = candidates(bonds: bonds, performance: performance, parameters: parameters)
            .filter(\.eligible).prefix(Int(min(parameters.bookkeepersMax, UInt64(BookkeeperSet.countMax))))
        guard !elected.isEmpty else { return nil }
        return BookkeeperSet(members: elected.map { ($0.key, $0.bonded / max(1, parameters.bondMinimum)) })
    }

    /// The pulse from which the next election runs: the start of the cycle after the one being counted.
    public static func nextElectionPulse(performance: Performance?, parameters: ChainParameters) -> UInt64 {
        ((performance?.cycle ?? 0) &+ 1) &* max(1, parameters.electionCyclePulses)
    }
}
