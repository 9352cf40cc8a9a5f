/// GongShi's mining reward: bookkeepers are paid for keeping the books. Each block mints
/// `params.miningReward` new bandwidth units, split equally among the bookkeeper set, the rounding
/// remainder to the block's proposer. The only way units are created; 0 by default. Applied after the
/// block's transactions by both the proposer and every validator (`Chain`), so it is part of the state root.
public enum MiningReward {
    /// A share that would lift a balance past 2^64−1 is not minted (the same on every node).
    public static func apply(to draft: inout StateDraft, proposer: ID) {
        guard let parameters = try? draft.record(ChainParameters.self, at: ChainParameters.stateKey), parameters.miningReward > 0,
            let bookkeepers = try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey), !bookkeepers.keys.isEmpty
        else { return }
        let each = parameters.miningReward / UInt64(bookkeepers.keys.count)
        for key in bookkeepers.keys { try? Holdings.deposit(each, to: key.id, in: &draft) }
        try? Holdings.deposit(parameters.miningReward - each * UInt64(bookkeepers.keys.count), to: proposer, in: &draft)
        draft.commitTransaction()
    }
}
