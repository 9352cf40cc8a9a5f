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
    /// The same before the last settlement: what a won dispute against it goes back to.
    public var previousSequence: UInt64
    public var previousUnits: UInt64
    /// Bandwidth bytes settled on this stream so far.
    public var value: UInt64
    /// Of the last settlement: how much became debt and how much was paid from the consumer's balance.
    public var lastDebt: UInt64
    public var lastPaid: UInt64
    /// What the consumer paid from its balance for bookings still in their window: held here, not yet
    /// the provider's, so that an undone booking can always be paid back in full.
    public var held: UInt64
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
        previousSequence = 0
        previousUnits = 0
        value = 0
        lastDebt = 0
        lastPaid = 0
        held = 0
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
            "settled": .unsigned(settledHeight), "previousSequence": .unsigned(previousSequence), "previousUnits": .unsigned(previousUnits),
            "held": .unsigned(held),
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
        previousSequence = try fields.unsigned("previousSequence")
        previousUnits = try fields.unsigned("previousUnits")
        held = try fields.unsigned("held")
    }

    public var streamKey: ID {
        UsageReceipt(chain: "", provider: provider, consumer: consumer, service: service, contract: contract, sequence: 0, units: 0).streamKey
    }
}

/// `receipt.settle`, `receipt.dispute`, `receipt.finalize`: usage becomes debt within the provider's
/// line to the consumer (the rest is paid from the consumer's balance, never more debt than the line
/// allows), pending for the publicity window.
///
/// Challenges follow GongShi's dispute rule, with evidence the challenger could not have made alone:
/// receipts are the consumer's signature, so only the provider can win with one (a receipt showing more
/// use than the consumer settled); the consumer wins only with the provider's own acknowledgement of
/// fewer units for a receipt at least as new as the one the provider settled. The side proven wrong
/// loses its deposit to the other; a challenge that proves nothing loses the challenger's deposit.
/// A receipt advances its stream only by showing more units, so no sequence number can freeze it.
public enum SettlementRules {
    public static let settle = "receipt.settle"
    public static let dispute = "receipt.dispute"
    public static let finalize = "receipt.finalize"

    public static var all: [TransactionRule] { [settleRule, disputeRule, finalizeRule] }

    public static let staleReceipt: Rejection.Code = "stale_receipt"
    public static let badReceipt: Rejection.Code = "bad_receipt"
    public static let inWindow: Rejection.Code = "in_publicity_window"
    public static let notPending: Rejection.Code = "nothing_to_dispute"
    public static let badEvidence: Rejection.Code = "bad_evidence"

    public static func disputeBody(acknowledgement: ReceiptAcknowledgement) -> CBOR { .map(["ack": acknowledgement.cbor]) }

    public static func body(_ receipt: SignedReceipt) -> CBOR { .map(["receipt": receipt.cbor]) }

    public static func finalizeBody(stream: ID) -> CBOR { .map(["stream": .id(stream)]) }

    static func decode(_ tx: Transaction, context: BlockContext) throws(Rejection) -> SignedReceipt {
        let signed = try tx.decodeBody { fields throws(DecodeError) in try SignedReceipt(cbor: try fields.value("receipt")) }
        do { try signed.verify() } catch { throw Rejection(badReceipt, "\(error)") }
        try check(signed.receipt, context)
        return signed
    }

    static func check(_ receipt: UsageReceipt, _ context: BlockContext) throws(Rejection) {
        guard receipt.chain.sameBytes(as: context.chain) else { throw Rejection(.wrongChain, "the receipt is for chain '\(receipt.chain)'") }
        guard receipt.provider != receipt.consumer else { throw Rejection(.selfReference, "a node does not bill itself") }
    }

    /// A dispute's evidence: a consumer-signed receipt (the provider's) or a provider-signed
    /// acknowledgement (the consumer's).
    enum Evidence {
        case receipt(SignedReceipt)
        case acknowledgement(ReceiptAcknowledgement)

        var receipt: UsageReceipt {
            switch self {
            case .receipt(let signed): signed.receipt
            case .acknowledgement(let ack): ack.receipt
            }
        }
    }

    static func decodeEvidence(_ tx: Transaction, context: BlockContext) throws(Rejection) -> Evidence {
        let evidence = try tx.decodeBody { fields throws(DecodeError) -> Evidence in
            if fields.hasField("ack") { return .acknowledgement(try ReceiptAcknowledgement(cbor: try fields.value("ack"))) }
            return .receipt(try SignedReceipt(cbor: try fields.value("receipt")))
        }
        do {
            switch evidence {
            case .receipt(let signed): try signed.verify()
            case .acknowledgement(let ack): try ack.verify()
            }
        } catch { throw Rejection(badReceipt, "\(error)") }
        try check(evidence.receipt, context)
        return evidence
    }

    /// The bandwidth value of `units` more of the receipt's service.
    static func value(of units: UInt64, _ receipt: UsageReceipt, _ draft: StateDraft) throws(Rejection) -> UInt64 {
        let parameters = try draft.parameters()
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
        guard receipt.units > record.units else {
            throw Rejection(staleReceipt, "receipts are cumulative: \(receipt.units) units is not more than the \(record.units) already settled (each unit counts once)")
        }
        let value = try value(of: receipt.units - record.units, receipt, draft)
        var line = try draft.line(receipt.consumer, receipt.provider, height: context.height)
        let asDebt = min(value, line.room(forDebtor: receipt.consumer, atPulse: context.pulse))
        let paid = value - asDebt
        if paid > 0 {
            do { try Holdings.withdraw(paid, from: receipt.consumer, in: &draft) } catch {
                throw Rejection(IOURules.beyondLine, "\(value) is due but the line leaves room for \(asDebt) and the consumer cannot pay the other \(paid)")
            }
            record.held = try record.held.adding(paid, what: "held payment")
        }
        if asDebt > 0 {
            line.addDebt(of: receipt.consumer, Int128(asDebt))
            line.changedHeight = context.height
            draft.putLine(line)
        }
        record.previousSequence = record.sequence
        record.previousUnits = record.units
        record.sequence = receipt.sequence
        record.units = receipt.units
        record.value = try record.value.adding(value, what: "settled value")
        record.lastDebt = asDebt
        record.lastPaid = paid
        record.settledHeight = context.height
    }

    /// Ends a pending settlement whose window has passed: the deposit goes back to its submitter and
    /// what the consumer paid is released to the provider.
    static func closeIfDue(_ record: inout Settlement, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        guard record.pending, context.pulse > record.windowEnd else { return }
        try Holdings.deposit(record.deposit, to: record.submitter, in: &draft)
        try Holdings.deposit(record.held, to: record.provider, in: &draft)
        record.deposit = 0
        record.held = 0
        record.pending = false
    }

    static func openWindow(_ record: inout Settlement, submitter: ID, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        let parameters = try draft.parameters()
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

    /// The other side challenges a pending settlement with evidence it could not have made alone.
    static let disputeRule = TransactionRule(type: dispute, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let evidence = try decodeEvidence(tx, context: context)
        let receipt = evidence.receipt
        guard var record = try draft.record(Settlement.self, at: receipt.streamKey), record.pending, context.pulse <= record.windowEnd else {
            throw Rejection(notPending, "no settlement of this stream is in its publicity window")
        }
        guard tx.origin != record.submitter, tx.origin == receipt.provider || tx.origin == receipt.consumer else {
            throw Rejection(.wrongSigners, "only the other side of the stream disputes its settlement")
        }
        let parameters = try draft.parameters()
        let proven: Bool
        switch evidence {
        case .receipt:
            guard tx.origin == receipt.provider else {
                throw Rejection(badEvidence, "the consumer signs receipts, so its own receipt proves nothing for it; dispute with the provider's acknowledgement")
            }
            proven = receipt.units > record.units
            if proven {
                // The consumer settled a stale receipt: the newer one is booked, the consumer's deposit
                // goes to the provider, whose own deposit now stands behind the new settlement.
                try book(receipt, into: &record, &draft, context)
                try Holdings.deposit(record.deposit, to: tx.origin, in: &draft)
                record.deposit = 0
                record.pending = false
                try openWindow(&record, submitter: tx.origin, &draft, context)
            }
        case .acknowledgement:
            guard tx.origin == receipt.consumer else {
                throw Rejection(badEvidence, "the provider signs acknowledgements, so its own proves nothing for it; dispute with a receipt")
            }
            // The same receipt number: the provider's node acknowledges one receipt per number, in rising
            // order, so a settled receipt under a number it acknowledged for fewer units contradicts its
            // own word. (A higher-numbered acknowledgement proves nothing: the consumer picks the numbers.)
            proven = receipt.sequence == record.sequence && receipt.units < record.units
            if proven {
                // The provider settled more than it acknowledged: the settlement is undone and the
                // provider's deposit goes to the consumer.
                try undoLast(&record, &draft, context)
                try Holdings.deposit(record.deposit, to: tx.origin, in: &draft)
                record.deposit = 0
                record.pending = false
            }
        }
        if !proven {
            // The challenge proves nothing: the challenger's deposit goes to the submitter; it stands.
            try Holdings.pay(parameters.settlementDeposit, from: tx.origin, to: record.submitter, in: &draft)
        }
        draft.put(record, at: receipt.streamKey)
    }

    /// Reverses the last booking: its debt comes off the line (as far as the line still carries it as
    /// free debt: what IOUs itemize stays) and what was paid goes back from the provider (as far as its
    /// balance allows).
    static func undoLast(_ record: inout Settlement, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        var line = try draft.line(record.consumer, record.provider, height: context.height)
        // Found by the adversarial search: taking IOU-itemized debt off wrote a line no rule could read.
        let debt = min(record.lastDebt, line.freeDebt(of: record.consumer))
        if debt > 0 {
            line.addDebt(of: record.consumer, -Int128(debt))
            line.changedHeight = context.height
            draft.putLine(line)
        }
        let refund = min(record.lastPaid, record.held)
        try Holdings.deposit(refund, to: record.consumer, in: &draft)
        record.held -= refund
        record.value -= min(record.value, record.lastDebt + record.lastPaid)
        record.sequence = record.previousSequence
        record.units = record.previousUnits
        record.lastDebt = 0
        record.lastPaid = 0
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
