/// GongShi's mining reward: bookkeepers are paid for keeping the books. Each block mints
/// `params.miningReward` new bandwidth units, shared by voting power among the bookkeepers whose
/// precommits are in the previous block's certificate (the one this block carries: a block's own
/// certificate cannot be inside its state root), the rounding remainder to the block's proposer; at
/// height 1, which carries no certificate, all to the proposer. The only way units are created; 0 by
/// default. Applied after the block's transactions by the proposer and every validator (`Chain`).
public enum MiningReward {
    /// A share that would lift a balance past 2^64−1 is not minted (the same on every node).
    public static func apply(to draft: inout StateDraft, signers: [PublicKey], proposer: ID) {
        guard let parameters = try? draft.record(ChainParameters.self, at: ChainParameters.stateKey), parameters.miningReward > 0,
            let bookkeepers = try? draft.record(BookkeeperSet.self, at: BookkeeperSet.stateKey)
        else { return }
        let weighted = signers.compactMap { key in bookkeepers.power(of: key).map { (key, $0) } }
        let power = weighted.reduce(UInt64(0)) { $0 + $1.1 }
        var paid: UInt64 = 0
        if power > 0 {
            for (key, weight) in weighted {
                // reward × weight ÷ power, in 128 bits; weight ≤ power, so the quotient fits.
                let each = power.dividingFullWidth(parameters.miningReward.multipliedFullWidth(by: weight)).quotient
                try? Holdings.deposit(each, to: key.id, in: &draft)
                paid += each
            }
        }
        try? Holdings.deposit(parameters.miningReward - paid, to: proposer, in: &draft)
        draft.commitTransaction()
    }
}
