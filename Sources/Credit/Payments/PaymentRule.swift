import Ledger

/// `credit.pay`: the payer moves `amount` to the payee along a path of credit lines, atomically: on each
/// hop the value cancels debt owed to the sender or becomes the sender's debt within its limit, so every
/// intermediary gains a claim on one side and a debt on the other and its net position is unchanged.
/// Signed by the payer alone; intermediaries consented by allowing rippling on both lines they join.
public enum PaymentRule {
    public static let type = "credit.pay"
    public static let noPath: Rejection.Code = "no_path"

    public static func body(to: ID, amount: UInt64, via: [ID]) -> CBOR {
        .map(["to": .id(to), "amount": .unsigned(amount), "via": .array(via.map { .id($0) })])
    }

    public static let rule = TransactionRule(type: type, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (to, amount, via) = try tx.decodeBody { fields throws(DecodeError) in
            let to = try fields.id("to"), amount = try fields.unsigned("amount")
            var via: [ID] = []
            for item in try fields.array("via", countMax: CreditGraph.hopsMax - 1) {
                guard case .bytes(let raw) = item, let id = ID(bytes: raw) else { throw .schema("credit.pay: 'via' holds 20-byte IDs") }
                via.append(id)
            }
            return (to, amount, via)
        }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        let hops = [tx.origin] + via + [to]
        guard Set(hops).count == hops.count else { throw Rejection(.selfReference, "a payment path visits no node twice") }
        for (index, pair) in zip(hops, hops.dropFirst()).enumerated() {
            let (sender, receiver) = pair
            guard var line = try draft.record(CreditLine.self, at: CreditLine.stateKey(sender, receiver)) else {
                throw Rejection(noPath, "no credit line between \(sender) and \(receiver)")
            }
            if index > 0 && !line.terms(grantedBy: sender).allowRipple {
                throw Rejection(noPath, "\(sender) does not let payments ripple through it to \(receiver)")
            }
            if index < hops.count - 2 && !line.terms(grantedBy: receiver).allowRipple {
                throw Rejection(noPath, "\(receiver) does not let payments ripple through it from \(sender)")
            }
            let capacity = line.capacity(from: sender, atPulse: context.pulse)
            guard capacity >= amount else {
                throw Rejection(noPath, "the line from \(sender) to \(receiver) can carry \(capacity), not \(amount)")
            }
            line.move(amount, from: sender)
            line.changedHeight = context.height
            draft.putLine(line)
        }
    }
}
