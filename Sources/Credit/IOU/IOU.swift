import Ledger

/// A signed debt: "a currency issued by the borrower". The borrower issues it to a lender that grants
/// it credit; the lender may pass it to a third node that also grants the borrower credit (the paper's
/// agent node); the borrower repays it in bandwidth units. Its amount is part of the line's debt,
/// itemized so that it is only ever repaid or moved as itself.
///
/// Stored at `ID.derived("iou", borrower || issuing nonce (8 bytes, big-endian))`.
public struct IOU: StateRecord, Equatable {
    public static let kind = "iou"
    public static let memoBytesMax = 256

    public var id: ID
    public var borrower: ID
    /// Who holds the claim now.
    public var holder: ID
    public var amount: UInt64
    public var outstanding: UInt64
    public var memo: String
    public var issuedHeight: UInt64

    public static func stateKey(borrower: ID, nonce: UInt64) -> ID {
        ID.derived("iou", data: borrower.bytes + nonce.bigEndianBytes)
    }

    public init(id: ID, borrower: ID, holder: ID, amount: UInt64, memo: String, issuedHeight: UInt64) {
        self.id = id
        self.borrower = borrower
        self.holder = holder
        self.amount = amount
        self.outstanding = amount
        self.memo = memo
        self.issuedHeight = issuedHeight
    }

    public var fields: [String: CBOR] {
        [
            "id": .id(id), "borrower": .id(borrower), "holder": .id(holder), "amount": .unsigned(amount),
            "outstanding": .unsigned(outstanding), "memo": .text(memo), "issued": .unsigned(issuedHeight),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        id = try fields.id("id")
        borrower = try fields.id("borrower")
        holder = try fields.id("holder")
        amount = try fields.unsigned("amount")
        outstanding = try fields.unsigned("outstanding")
        memo = try fields.text("memo", lengthMax: IOU.memoBytesMax)
        issuedHeight = try fields.unsigned("issued")
    }
}

/// `iou.issue`, `iou.repay`, `iou.transfer`.
public enum IOURules {
    public static let issue = "iou.issue"
    public static let repay = "iou.repay"
    public static let transfer = "iou.transfer"

    public static var all: [TransactionRule] { [issueRule, repayRule, transferRule] }

    public static let unknown: Rejection.Code = "unknown_iou"
    public static let beyondLine: Rejection.Code = "beyond_credit_line"

    public static func issueBody(lender: ID, amount: UInt64, memo: String) -> CBOR {
        .map(["lender": .id(lender), "amount": .unsigned(amount), "memo": .text(memo)])
    }

    public static func repayBody(iou: ID, amount: UInt64) -> CBOR { .map(["iou": .id(iou), "amount": .unsigned(amount)]) }

    public static func transferBody(iou: ID, to: ID) -> CBOR { .map(["iou": .id(iou), "to": .id(to)]) }

    /// Signed by the borrower. The lender must grant the borrower credit with room for the amount.
    static let issueRule = TransactionRule(type: issue, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (lender, amount, memo) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("lender"), try fields.unsigned("amount"), try fields.text("memo", lengthMax: IOU.memoBytesMax))
        }
        let borrower = tx.origin
        guard lender != borrower else { throw Rejection(.selfReference, "an account cannot owe itself") }
        guard amount > 0 else { throw Rejection(.amountNotPositive, "amount must be positive") }
        var line = try draft.line(borrower, lender, height: context.height)
        let room = line.room(forDebtor: borrower, atPulse: context.pulse)
        guard amount <= room else {
            throw Rejection(beyondLine, "\(lender) lets \(borrower) owe \(room) more; the IOU is for \(amount)")
        }
        line.addDebt(of: borrower, Int128(amount))
        line.addItemized(of: borrower, Int128(amount))
        line.changedHeight = context.height
        draft.putLine(line)
        let id = IOU.stateKey(borrower: borrower, nonce: tx.nonce)
        draft.put(IOU(id: id, borrower: borrower, holder: lender, amount: amount, memo: memo, issuedHeight: context.height), at: id)
    }

    /// Signed by the borrower: pays the holder from the borrower's balance. The holder agreed to this
    /// repayment when it accepted the IOU, so its signature is not needed.
    static let repayRule = TransactionRule(type: repay, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (id, amount) = try tx.decodeBody { fields throws(DecodeError) in (try fields.id("iou"), try fields.unsigned("amount")) }
        guard var iou = try draft.record(IOU.self, at: id) else { throw Rejection(unknown, "no IOU \(id)") }
        guard iou.borrower == tx.origin else { throw Rejection(.wrongSigners, "only the borrower \(iou.borrower) repays IOU \(id)") }
        guard amount > 0, amount <= iou.outstanding else {
            throw Rejection(.amountNotPositive, "repayment must be between 1 and the \(iou.outstanding) outstanding")
        }
        try Holdings.pay(amount, from: iou.borrower, to: iou.holder, in: &draft)
        var line = try draft.line(iou.borrower, iou.holder, height: context.height)
        line.addDebt(of: iou.borrower, -Int128(amount))
        line.addItemized(of: iou.borrower, -Int128(amount))
        line.changedHeight = context.height
        draft.putLine(line)
        iou.outstanding -= amount
        draft.set(id, iou.outstanding == 0 ? nil : iou.cbor)
    }

    /// Signed by the holder and the new holder. The new holder must grant the borrower credit with room
    /// for what is outstanding: the debt moves from one line to the other.
    static let transferRule = TransactionRule(type: transfer, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let (id, to) = try tx.decodeBody { fields throws(DecodeError) in (try fields.id("iou"), try fields.id("to")) }
        guard var iou = try draft.record(IOU.self, at: id) else { throw Rejection(unknown, "no IOU \(id)") }
        guard iou.holder == tx.origin, tx.signers[1].id == to else {
            throw Rejection(.wrongSigners, "IOU \(id) is passed on by its holder \(iou.holder), co-signed by the new holder")
        }
        guard to != iou.borrower, to != iou.holder else { throw Rejection(.selfReference, "the new holder must be a third node") }
        var from = try draft.line(iou.borrower, iou.holder, height: context.height)
        from.addDebt(of: iou.borrower, -Int128(iou.outstanding))
        from.addItemized(of: iou.borrower, -Int128(iou.outstanding))
        from.changedHeight = context.height
        draft.putLine(from)
        var into = try draft.line(iou.borrower, to, height: context.height)
        let room = into.room(forDebtor: iou.borrower, atPulse: context.pulse)
        guard iou.outstanding <= room else {
            throw Rejection(beyondLine, "\(to) lets \(iou.borrower) owe \(room) more; the IOU has \(iou.outstanding) outstanding")
        }
        into.addDebt(of: iou.borrower, Int128(iou.outstanding))
        into.addItemized(of: iou.borrower, Int128(iou.outstanding))
        into.changedHeight = context.height
        draft.putLine(into)
        iou.holder = to
        draft.put(iou, at: id)
    }
}
