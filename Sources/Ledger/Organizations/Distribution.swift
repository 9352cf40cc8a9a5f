/// Splitting one income event by a consensus contract: a pure function of the income, the contract,
/// and the organization's members, token holders and contributors as of the end of the previous block.
///
/// Rounding rule (specs/organizations.md): every share is rounded down — a fixed split gets
/// ⌊income × ppm / 10⁶⌋; a role's part is divided equally, each member ⌊part / n⌋; a pro-rata or
/// value-chain part gives each holder ⌊part × weight / total⌋ — and everything not paid out (unassigned
/// parts, parts with nobody to receive them, every remainder of a division) goes to the remainder
/// account. So the payouts and the remainder add up to the income exactly: not one unit is created or lost.
public enum Distribution {
    /// The most payouts one income event makes: every member, every token holder and every contributor
    /// to its reference, each bounded by its own rule. So `org.income`'s work is bounded by a constant.
    public static let payoutsPerTransactionMax = Int(Organization.membersMax + Governance.holdersMax) + Contribution.contributorsPerReferenceMax

    public struct Inputs: Sendable {
        public var income: UInt64
        public var contract: ConsensusContract
        /// Members by role, in ID order.
        public var roles: [Role: [ID]]
        /// Token holders and their balances, in ID order.
        public var holders: [(ID, UInt64)]
        /// Contributors to the income's reference and their weights, in ID order.
        public var contributors: [(ID, UInt64)]

        public init(income: UInt64, contract: ConsensusContract, roles: [Role: [ID]], holders: [(ID, UInt64)], contributors: [(ID, UInt64)]) {
            self.income = income
            self.contract = contract
            self.roles = roles
            self.holders = holders
            self.contributors = contributors
        }
    }

    public struct Result: Equatable, Sendable {
        /// One entry per recipient, in ID order, amounts merged.
        public var payouts: [(recipient: ID, amount: UInt64)]
        public var remainder: UInt64

        public init(payouts: [(recipient: ID, amount: UInt64)], remainder: UInt64) {
            self.payouts = payouts
            self.remainder = remainder
        }

        public static func == (a: Result, b: Result) -> Bool {
            a.remainder == b.remainder && a.payouts.count == b.payouts.count
                && zip(a.payouts, b.payouts).allSatisfy { $0.recipient == $1.recipient && $0.amount == $1.amount }
        }

        public var paidOut: UInt64 { payouts.reduce(0) { $0 + $1.amount } }

        /// RFC 6962 root over SHA256(0x00 ‖ recipient ‖ amount (8 bytes BE)) of the payouts.
        public var root: Digest {
            MerkleList.root(payouts.map { MerkleList.leafHash($0.recipient.bytes + withUnsafeBytes(of: $0.amount.bigEndian) { Array($0) }) })
        }
    }

    /// ⌊value × numerator / denominator⌋ without overflow (numerator ≤ denominator).
    static func share(_ value: UInt64, _ numerator: UInt64, _ denominator: UInt64) -> UInt64 {
        guard denominator > 0 else { return 0 }
        let (high, low) = value.multipliedFullWidth(by: numerator)
        return denominator.dividingFullWidth((high, low)).quotient
    }

    public static func compute(_ inputs: Inputs) -> Result {
        let income = inputs.income, contract = inputs.contract
        var paid: [ID: UInt64] = [:]
        var assigned: UInt64 = 0
        func pay(_ recipient: ID, _ amount: UInt64) {
            guard amount > 0 else { return }
            paid[recipient, default: 0] += amount
            assigned += amount
        }
        for split in contract.splits {
            let part = share(income, split.ppm, ConsensusContract.million)
            switch split.target {
            case .member(let id): pay(id, part)
            case .role(let role):
                let members = inputs.roles[role] ?? []
                guard !members.isEmpty else { continue }
                let each = part / UInt64(members.count)
                for member in members { pay(member, each) }
            }
        }
        let proRata = share(income, contract.proRataPPM, ConsensusContract.million)
        let supply = inputs.holders.reduce(UInt64(0)) { $0 &+ $1.1 }
        if supply > 0 { for (holder, balance) in inputs.holders { pay(holder, share(proRata, balance, supply)) } }
        let chainPart = share(income, contract.valueChainPPM, ConsensusContract.million)
        let weights = inputs.contributors.reduce(UInt64(0)) { $0 &+ $1.1 }
        if weights > 0 { for (contributor, weight) in inputs.contributors { pay(contributor, share(chainPart, weight, weights)) } }
        let payouts = paid.sorted { $0.key < $1.key }.map { (recipient: $0.key, amount: $0.value) }
        return Result(payouts: payouts, remainder: income - assigned)
    }
}
