import Ledger

/// The settled state of one receipt stream (provider, consumer, service, contract), at
/// `UsageReceipt.streamKey`. The latest settlement stays *pending* for the publicity window, while the
/// other side may challenge it; the submitter's deposit is held here until then.
public struct Settlement: StateRecord, Equatable {
    public static let kind = "settlement"

    public var provider: ID
    public var consumer: ID
    public var service: Service
    public var contract: ID?
    /// The last settled receipt's sequence and cumulative units.
    public var sequence: UInt64
    public var units: UInt64
    /// Bandwidth bytes settled on this stream so far.
    public var value: UInt64
    /// Of the last settlement: how much became debt and how much was paid from the consumer's balance.
    public var lastDebt: UInt64
    public var lastPaid: UInt64
    public var pending: Bool
    public var windowEnd: UInt64
    public var submitter: ID
    public var deposit: UInt64
    public var settledHeight: UInt64

    public init(receipt: UsageReceipt) {
        provider = receipt.provider
        consumer = receipt.consumer
        service = receipt.service
        contract = receipt.contract
        sequence = 0
        units = 0
        value = 0
        lastDebt = 0
        lastPaid = 0
        pending = false
        windowEnd = 0
        submitter = receipt.provider
        deposit = 0
        settledHeight = 0
    }

    public var fields: [String: CBOR] {
        var map: [String: CBOR] = [
            "provider": .id(provider), "consumer": .id(consumer), "service": .text(service.rawValue), "sequence": .unsigned(sequence),
            "units": .unsigned(units), "value": .unsigned(value), "lastDebt": .unsigned(lastDebt), "lastPaid": .unsigned(lastPaid),
            "pending": .bool(pending), "windowEnd": .unsigned(windowEnd), "submitter": .id(submitter), "deposit": .unsigned(deposit),
            "settled": .unsigned(settledHeight),
        ]
        if let contract { map["contract"] = .id(contract) }
        return map
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        provider = try fields.id("provider")
        consumer = try fields.id("consumer")
        guard let service = Service(rawValue: try fields.text("service", lengthMax: 16)) else { throw .schema("settlement: unknown service") }
        self.service = service
        contract = fields.hasField("contract") ? try fields.id("contract") : nil
        sequence = try fields.unsigned("sequence")
        units = try fields.unsigned("units")
        value = try fields.unsigned("value")
        lastDebt = try fields.unsigned("lastDebt")
        lastPaid = try fields.unsigned("lastPaid")
        pending = try fields.bool("pending")
        windowEnd = try fields.unsigned("windowEnd")
        submitter = try fields.id("submitter")
        deposit = try fields.unsigned("deposit")
        settledHeight = try fields.unsigned("settled")
    }

    public var streamKey: ID {
        UsageReceipt(chain: "", provider: provider, consumer: consumer, service: service, contract: contract, sequence: 0, units: 0).streamKey
    }
}

/// `receipt.settle`, `receipt.dispute`, `receipt.finalize`: usage becomes debt within the provider's
/// line to the consumer (the rest is paid from the consumer's balance, never more debt than the line
/// allows), pending for the publicity window.
///
/// Challenges follow GongShi's dispute rule: the other side may show a newer receipt of the same stream
/// (only the latest matters); the newer receipt is settled and the submitter of the stale one loses its
/// deposit to the challenger. A challenge with a receipt that is not newer loses the challenger's
/// deposit to the submitter. Forged receipts never get this far: every receipt's signature is checked.
public enum SettlementRules {
    public static let settle = "receipt.settle"
    public static let dispute = "receipt.dispute"
    public static let finalize = "receipt.finalize"

    public static var all: [TransactionRule] { [settleRule, disputeRule, finalizeRule] }

    public static let staleReceipt: Rejection.Code = "stale_receipt"
    public static let badReceipt: Rejection.Code = "bad_receipt"
    public static let inWindow: Rejection.Code = "in_publicity_window"
    public static let notPending: Rejection.Code = "nothing_to_dispute"

    public static func body(_ receipt: SignedReceipt) -> CBOR { .map(["receipt": receipt.cbor]) }

    public static func finalizeBody(stream: ID) -> CBOR { .map(["stream": .id(stream)]) }

    static func decode(_ tx: Transaction, context: BlockContext) throws(Rejection) -> SignedReceipt {
        let signed = try tx.decodeBody { fields throws(DecodeError) in try SignedReceipt(cbor: try fields.value("receipt")) }
        do { try signed.verify() } catch { throw Rejection(badReceipt, "\(error)") }
        guard signed.receipt.chain == context.chain else { throw Rejection(.wrongChain, "the receipt is for chain '\(signed.receipt.chain)'") }
        guard signed.receipt.provider != signed.receipt.consumer else { throw Rejection(.selfReference, "a node does not bill itself") }
        return signed
    }

    /// The bandwidth value of `units` more of the receipt's service.
    static func value(of units: UInt64, _ receipt: UsageReceipt, _ draft: StateDraft) throws(Rejection) -> UInt64 {
        let parameters = try draft.record(ChainParameters.self, at: ChainParameters.stateKey)!
        let coefficient: UInt64
        switch receipt.service {
        case .bandwidth: coefficient = 1
        case .storage: coefficient = parameters.storageByteDayCoefficient
        case .cpu: coefficient = parameters.cpuSecondCoefficient
        case .forward:
            guard let contract = try draft.record(ForwardContract.self, at: receipt.contract!),
                contract.client == receipt.consumer, contract.relay == receipt.provider
            else { throw Rejection(ForwardRules.unknown, "no forwarding contract \(receipt.contract!) between these nodes") }
            guard let value = contract.value(ofBytes: units) else { throw Rejection(.overflow, "the receipt's value exceeds 2^64-1") }
            return value
        }
        let (value, overflow) = units.multipliedReportingOverflow(by: coefficient)
        guard !overflow else { throw Rejection(.overflow, "the receipt's value exceeds 2^64-1") }
        return value
    }

    /// Books the usage from `record`'s last receipt up to `receipt`: debt within the line, the rest paid.
    static func book(_ receipt: UsageReceipt, into record: inout Settlement, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        guard receipt.sequence > record.sequence else {
            throw Rejection(staleReceipt, "receipt \(receipt.sequence) is not newer than the settled receipt \(record.sequence) (each receipt counts once)")
        }
        guard receipt.units >= record.units else {
            throw Rejection(badReceipt, "receipts are cumulative: \(receipt.units) units is less than the \(record.units) already settled")
        }
        let value = try value(of: receipt.units - record.units, receipt, draft)
        var line = try draft.line(receipt.consumer, receipt.provider, height: context.height)
        let asDebt = min(value, line.room(forDebtor: receipt.consumer, atPulse: context.pulse))
        let paid = value - asDebt
        if paid > 0 {
            do { try Holdings.pay(paid, from: receipt.consumer, to: receipt.provider, in: &draft) } catch {
                throw Rejection(IOURules.beyondLine, "\(value) is due but the line leaves room for \(asDebt) and the consumer cannot pay the other \(paid)")
            }
        }
        if asDebt > 0 {
            line.addDebt(of: receipt.consumer, Int128(asDebt))
            line.changedHeight = context.height
            draft.putLine(line)
        }
        record.sequence = receipt.sequence
        record.units = receipt.units
        record.value = try record.value.adding(value, what: "settled value")
        record.lastDebt = asDebt
        record.lastPaid = paid
        record.settledHeight = context.height
    }

    /// Ends a pending settlement whose window has passed: the deposit goes back to its submitter.
    static func closeIfDue(_ record: inout Settlement, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        guard record.pending, context.pulse > record.windowEnd else { return }
        try Holdings.deposit(record.deposit, to: record.submitter, in: &draft)
        record.deposit = 0
        record.pending = false
    }

    static func openWindow(_ record: inout Settlement, submitter: ID, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        let parameters = try draft.record(ChainParameters.self, at: ChainParameters.stateKey)!
        if !(record.pending && record.submitter == submitter) {
            try Holdings.withdraw(parameters.settlementDeposit, from: submitter, in: &draft)
            record.deposit = parameters.settlementDeposit
        }
        record.pending = true
        record.submitter = submitter
        record.windowEnd = context.pulse + parameters.publicityWindowPulses
    }

    /// Provider or consumer submits the latest receipt, with a deposit.
    static let settleRule = TransactionRule(type: settle, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let signed = try decode(tx, context: context)
        let receipt = signed.receipt
        guard tx.origin == receipt.provider || tx.origin == receipt.consumer else {
            throw Rejection(.wrongSigners, "only the provider or the consumer settles their receipts")
        }
        var record = try draft.record(Settlement.self, at: receipt.streamKey) ?? Settlement(receipt: receipt)
        try closeIfDue(&record, &draft, context)
        if record.pending && record.submitter != tx.origin {
            throw Rejection(inWindow, "the other side's settlement is in its publicity window until pulse \(record.windowEnd); use receipt dispute")
        }
        try book(receipt, into: &record, &draft, context)
        try openWindow(&record, submitter: tx.origin, &draft, context)
        draft.put(record, at: receipt.streamKey)
    }

    /// The other side challenges a pending settlement with its own receipt of the stream.
    static let disputeRule = TransactionRule(type: dispute, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let signed = try decode(tx, context: context)
        let receipt = signed.receipt
        guard var record = try draft.record(Settlement.self, at: receipt.streamKey), record.pending, context.pulse <= record.windowEnd else {
            throw Rejection(notPending, "no settlement of this stream is in its publicity window")
        }
        guard tx.origin != record.submitter, tx.origin == receipt.provider || tx.origin == receipt.consumer else {
            throw Rejection(.wrongSigners, "only the other side of the stream disputes its settlement")
        }
        let parameters = try draft.record(ChainParameters.self, at: ChainParameters.stateKey)!
        if receipt.sequence > record.sequence {
            // The settled receipt was stale: the newer one is booked, the submitter's deposit goes to the
            // challenger, whose own deposit now stands behind the new settlement.
            try book(receipt, into: &record, &draft, context)
            try Holdings.deposit(record.deposit, to: tx.origin, in: &draft)
            record.deposit = 0
            record.pending = false
            try openWindow(&record, submitter: tx.origin, &draft, context)
        } else {
            // The challenge is wrong: the challenger's deposit goes to the submitter; the settlement stands.
            try Holdings.pay(parameters.settlementDeposit, from: tx.origin, to: record.submitter, in: &draft)
        }
        draft.put(record, at: receipt.streamKey)
    }

    /// Anyone may close a settlement whose window has passed, returning the deposit.
    static let finalizeRule = TransactionRule(type: finalize, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let stream = try tx.decodeBody { fields throws(DecodeError) in try fields.id("stream") }
        guard var record = try draft.record(Settlement.self, at: stream), record.pending else {
            throw Rejection(notPending, "no pending settlement \(stream)")
        }
        guard context.pulse > record.windowEnd else {
            throw Rejection(inWindow, "settlement \(stream) is in its publicity window until pulse \(record.windowEnd)")
        }
        try closeIfDue(&record, &draft, context)
        draft.put(record, at: stream)
    }
}
