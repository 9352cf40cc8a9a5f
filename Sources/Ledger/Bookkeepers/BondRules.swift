/// `bookkeeper.bond` and `bookkeeper.unbond`: a node's key locks bandwidth units to stand at the next
/// election, and releases them, slashable still, after `params.unbondDelayPulses` (specs/transactions.md).
/// The signer is the bookkeeper: the key that will sign votes, and whose account pays and is paid back.
public enum BondRules {
    public static let bondType = "bookkeeper.bond"
    public static let unbondType = "bookkeeper.unbond"
    public static let bondTooSmall: Rejection.Code = "bond_too_small"
    public static let bondsFull: Rejection.Code = "bonds_full"
    public static let notBonded: Rejection.Code = "not_bonded"

    public static func body(amount: UInt64) -> CBOR { .map(["amount": .unsigned(amount)]) }

    public static var all: [TransactionRule] { [bond, unbond] }

    static let bond = TransactionRule(type: bondType, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let amount = try tx.decodeBody { fields throws(DecodeError) in try fields.unsigned("amount") }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        let parameters = try draft.parameters()
        let key = tx.signers[0]
        var bonds = try draft.record(Bonds.self, at: Bonds.stateKey) ?? Bonds(entries: [])
        var entry = bonds.entry(key) ?? Bonds.Entry(key: key, bonded: 0)
        entry.bonded = try entry.bonded.adding(amount, what: "bond")
        guard entry.bonded >= parameters.bondMinimum else {
            throw Rejection(bondTooSmall, "a bond is at least \(parameters.bondMinimum) (params.bondMinimum); this one would be \(entry.bonded)")
        }
        try Holdings.withdraw(amount, from: key.id, in: &draft)
        let standing = bonds.entries.filter { $0.bonded > 0 }
        var pushedOut = false
        if entry.bonded == amount, standing.count >= Bonds.standingMax {
            // Full: the smallest bond standing gives way (into unbonding), if this one is larger.
            guard var smallest = standing.min(by: { ($0.bonded, $0.key) < ($1.bonded, $1.key) }), smallest.bonded < entry.bonded else {
                throw Rejection(bondsFull, "\(Bonds.standingMax) candidates stand and none has a bond smaller than \(entry.bonded)")
            }
            smallest.unbond(smallest.bonded, pulse: context.pulse, height: context.height, parameters: parameters)
            bonds.update(smallest)
            pushedOut = true
        }
        // A bond that pushes a smaller one out may use the reserve, so that entries made by bonding and
        // unbonding at once cannot keep a larger bond out; any other new key only the list proper.
        let room = pushedOut ? Bonds.countMax + Bonds.pushOutReserve : Bonds.countMax
        guard bonds.entry(key) != nil || bonds.entries.count < room else {
            throw Rejection(bondsFull, "the list of bonds holds \(bonds.entries.count) entries, bonds being released included; try after a release")
        }
        bonds.update(entry)
        draft.put(bonds, at: Bonds.stateKey)
    }

    static let unbond = TransactionRule(type: unbondType, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let amount = try tx.decodeBody { fields throws(DecodeError) in try fields.unsigned("amount") }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        let parameters = try draft.parameters()
        let key = tx.signers[0]
        guard var bonds = try draft.record(Bonds.self, at: Bonds.stateKey), var entry = bonds.entry(key), entry.bonded > 0 else {
            throw Rejection(notBonded, "\(key.id) has no bond standing")
        }
        guard amount <= entry.bonded else { throw Rejection(.insufficientBalance, "the bond is \(entry.bonded), less than \(amount)") }
        guard entry.bonded - amount == 0 || entry.bonded - amount >= parameters.bondMinimum else {
            throw Rejection(bondTooSmall, "what stays bonded must be 0 or at least \(parameters.bondMinimum); it would be \(entry.bonded - amount)")
        }
        entry.unbond(amount, pulse: context.pulse, height: context.height, parameters: parameters)
        bonds.update(entry)
        draft.put(bonds, at: Bonds.stateKey)
    }
}
