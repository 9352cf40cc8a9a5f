/// GongShi's mining reward and the transaction fees: bookkeepers are paid for keeping the books. Each
/// block mints `params.miningReward` new bandwidth units and adds the fees its transactions paid; the sum
/// is shared by voting power among the bookkeepers whose precommits are in the previous block's
/// certificate (the one this block carries: a block's own certificate cannot be inside its state root),
/// the rounding remainder to the block's proposer; at height 1, which carries no certificate, all to the
/// proposer. Minting is the only way units are created; 0 by default. Applied after the block's
/// transactions by the proposer and every validator (`Chain`), so it is part of the state root.
public enum MiningReward {
    /// One bookkeeper's share of a block's reward and fees.
    public struct Share: Equatable, Sendable {
        public let bookkeeper: ID
        public let amount: UInt64
    }

    /// Who receives what from `total`: each signer its power's share of the whole set's power; the
    /// rounding remainder to the proposer; the shares of members whose precommits the certificate lacks
    /// are not paid (burnt), so that a proposer gains nothing by leaving a precommit out. With no
    /// certificate (height 1), all to the proposer. Pure, so the explorer shows exactly what the rule paid.
    public static func shares(of total: UInt64, signers: [PublicKey], bookkeepers: BookkeeperSet, proposer: ID) -> [Share] {
        let weighted = signers.compactMap { key in bookkeepers.power(of: key).map { (key, $0) } }
        guard !weighted.isEmpty else { return total > 0 ? [Share(bookkeeper: proposer, amount: total)] : [] }
        let power = bookkeepers.totalPower
        // total × weight ÷ power, in 128 bits; weight ≤ power, so the quotient fits.
        func share(_ weight: UInt64) -> UInt64 { power.dividingFullWidth(total.multipliedFullWidth(by: weight)).quotient }
        var shares = weighted.map { Share(bookkeeper: $0.0.id, amount: share($0.1)) }
        let floors = bookkeepers.powers.reduce(UInt64(0)) { $0 &+ share($1) }
        shares.append(Share(bookkeeper: proposer, amount: total - min(total, floors)))
        return shares.filter { $0.amount > 0 }
    }

    /// What a stored block paid, recomputed from the block alone: the reward, the fees its transactions
    /// paid, and each bookkeeper's share. `certifiedBy` is the set that certified the block before it
    /// (the state after block h − 2), `startingSet` the set this block starts with (after h − 1).
    public static func payout(of block: Block, parameters: ChainParameters, certifiedBy lastSigners: BookkeeperSet, startingSet before: BookkeeperSet)
        -> (minted: UInt64, fees: UInt64, shares: [Share])
    {
        guard block.height > 0 else { return (0, 0, []) }
        let fees = block.transactions.reduce(UInt64(0)) { $0 &+ parameters.feePerByte &* UInt64($1.encoded.count) }
        let signers = rewarded(block.lastCommit?.signers.map(\.key) ?? [], startingSet: before, excluded: Set(block.evidence.map(\.voter)))
        return (parameters.miningReward, fees, shares(of: parameters.miningReward &+ fees, signers: signers, bookkeepers: lastSigners, proposer: block.header.proposer))
    }

    /// The signers a block pays: those still in the set it starts with (a key that evidence or an
    /// election took out of the set is not paid for its last certificate) and not excluded by its evidence.
    static func rewarded(_ signers: [PublicKey], startingSet before: BookkeeperSet, excluded: Set<PublicKey>) -> [PublicKey] {
        signers.filter { before.power(of: $0) != nil && !excluded.contains($0) }
    }

    /// `bookkeepers` is the set that made the certificate (its powers weigh the shares). A share that would
    /// lift a balance past 2^64−1 is not paid (the same on every node).
    public static func apply(to draft: inout StateDraft, signers: [PublicKey], bookkeepers: BookkeeperSet, proposer: ID) {
        guard let parameters = try? draft.record(ChainParameters.self, at: ChainParameters.stateKey) else { return }
        let (total, overflow) = parameters.miningReward.addingReportingOverflow(draft.fees)
        guard total > 0 else { return }
        for share in shares(of: overflow ? .max : total, signers: signers, bookkeepers: bookkeepers, proposer: proposer) {
            try? Holdings.deposit(share.amount, to: share.bookkeeper, in: &draft)
        }
        draft.commitTransaction()
    }
}
