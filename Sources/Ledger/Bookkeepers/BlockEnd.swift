/// What every block does after its transactions and evidence, the same for the proposer and every
/// validator (specs/blocks.md §After the transactions), in this order: count the previous certificate
/// into Proof of Performance, pay out unbonded amounts whose delay is over, hold the election at the
/// first block of a new cycle, keep the set that certified this block when the set changed, and pay the
/// mining reward and fees to the previous certificate's signers.
enum BlockEnd {
    static func apply(
        to draft: inout StateDraft, context: BlockContext, before: BookkeeperSet, lastSigners: BookkeeperSet, signers: [PublicKey]?,
        excluded: Set<PublicKey>, proposer: ID
    ) {
        guard let parameters = try? draft.parameters() else { return }
        var performance = (try? draft.record(Performance.self, at: Performance.stateKey)) ?? Performance(cycle: 0)
        if let signers { performance.count(certificateOf: lastSigners, signers: Set(signers)) }
        releaseUnbonded(in: &draft, context: context)
        let cycle = parameters.cycle(ofPulse: context.pulse)
        if cycle > performance.cycle {
            if let bonds = try? draft.record(Bonds.self, at: Bonds.stateKey),
                let elected = Election.elect(bonds: bonds, performance: performance, parameters: parameters),
                elected != ((try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)) ?? before)
            {
                draft.put(elected, at: BookkeeperSet.stateKey)
            }
            performance = Performance(cycle: cycle)
        }
        draft.put(performance, at: Performance.stateKey)
        draft.commitTransaction()
        Chain.handOver(from: before, in: &draft)
        MiningReward.apply(to: &draft, signers: MiningReward.rewarded(signers ?? [], startingSet: before, excluded: excluded),
                           bookkeepers: lastSigners, proposer: proposer)
    }

    /// Pays back each unbonding amount whose pulse and height have come, of a key no longer in the set (a
    /// member keeps its stake at risk while it signs: it is paid back after the election that lets it go,
    /// and its delay); a payment that would overflow a balance waits (the same on every node).
    static func releaseUnbonded(in draft: inout StateDraft, context: BlockContext) {
        guard var bonds = try? draft.record(Bonds.self, at: Bonds.stateKey) else { return }
        let members = Set(((try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)) ?? nil)?.keys ?? [])
        var changed = false
        for var entry in bonds.entries
        where entry.unbonding > 0 && context.pulse >= entry.releasePulse && context.height >= entry.releaseHeight && !members.contains(entry.key) {
            guard (try? Holdings.deposit(entry.unbonding, to: entry.key.id, in: &draft)) != nil else { continue }
            entry.unbonding = 0
            bonds.update(entry)
            changed = true
        }
        guard changed else { return }
        draft.put(bonds, at: Bonds.stateKey)
    }
}
