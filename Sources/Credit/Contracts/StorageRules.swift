import Ledger

/// `contract.storage.create | challenge | prove | claim | end`. specs/credit.md has the bodies.
public enum StorageRules {
    public static let create = "contract.storage.create"
    public static let challenge = "contract.storage.challenge"
    public static let prove = "contract.storage.prove"
    public static let claim = "contract.storage.claim"
    public static let end = "contract.storage.end"

    public static var all: [TransactionRule] { [createRule, challengeRule, proveRule, claimRule, endRule] }

    public static let badProof: Rejection.Code = "bad_proof"
    public static let noChallenge: Rejection.Code = "no_open_challenge"
    public static let over: Rejection.Code = "contract_over"

    public struct Terms: Sendable {
        public var provider: ID
        public var cid: String
        public var size: UInt64
        public var root: Digest
        public var periodPulses: UInt64
        public var periods: UInt64
        public var deposit: UInt64
        /// Absent: the network's rate, storageByteDay × 2^30.
        public var pricePerGiBDay: UInt64?

        public init(provider: ID, cid: String, size: UInt64, root: Digest, periodPulses: UInt64, periods: UInt64, deposit: UInt64, pricePerGiBDay: UInt64? = nil) {
            self.provider = provider
            self.cid = cid
            self.size = size
            self.root = root
            self.periodPulses = periodPulses
            self.periods = periods
            self.deposit = deposit
            self.pricePerGiBDay = pricePerGiBDay
        }

        public var body: CBOR {
            var map: [String: CBOR] = [
                "provider": .id(provider), "cid": .text(cid), "size": .unsigned(size), "root": .digest(root),
                "periodPulses": .unsigned(periodPulses), "periods": .unsigned(periods), "deposit": .unsigned(deposit),
            ]
            if let pricePerGiBDay { map["pricePerGiBDay"] = .unsigned(pricePerGiBDay) }
            return .map(map)
        }
    }

    public static func contractBody(_ contract: ID) -> CBOR { .map(["contract": .id(contract)]) }

    public static func proveBody(contract: ID, segment: [UInt8], path: [Digest]) -> CBOR {
        .map(["contract": .id(contract), "segment": .bytes(segment), "path": .array(path.map { .digest($0) })])
    }

    static let createRule = TransactionRule(type: create, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let terms = try tx.decodeBody { fields throws(DecodeError) in
            Terms(provider: try fields.id("provider"), cid: try fields.text("cid", lengthMax: StorageContract.cidBytesMax),
                  size: try fields.unsigned("size"), root: try fields.digest("root"), periodPulses: try fields.unsigned("periodPulses"),
                  periods: try fields.unsigned("periods"), deposit: try fields.unsigned("deposit"),
                  pricePerGiBDay: fields.hasField("pricePerGiBDay") ? try fields.unsigned("pricePerGiBDay") : nil)
        }
        guard tx.signers[1].id == terms.provider else { throw Rejection(.wrongSigners, "the second signer must be the provider \(terms.provider)") }
        guard terms.provider != tx.origin else { throw Rejection(.selfReference, "a node does not store for itself under contract") }
        guard terms.size > 0, terms.periodPulses > 0, (1...StorageContract.periodsMax).contains(terms.periods) else {
            throw Rejection(.amountNotPositive, "size and period must be positive, periods 1 to \(StorageContract.periodsMax)")
        }
        guard terms.size <= StorageContract.sizeBytesMax else {
            throw Rejection(.tooLarge, "a storage contract covers at most \(StorageContract.sizeBytesMax) bytes")
        }
        let parameters = try draft.parameters()
        let rate = terms.pricePerGiBDay ?? parameters.storageByteDayCoefficient << 30
        guard let price = StorageContract.price(size: terms.size, pricePerGiBDay: rate, periodPulses: terms.periodPulses, pulsesPerDay: parameters.pulsesPerDay),
            price > 0, !price.multipliedReportingOverflow(by: terms.periods).overflow
        else { throw Rejection(.overflow, "the contract's price is zero or exceeds 2^64-1") }
        let id = StorageContract.stateKey(payer: tx.origin, provider: terms.provider, nonce: tx.nonce)
        let contract = StorageContract(id: id, payer: tx.origin, provider: terms.provider, cid: terms.cid, size: terms.size, root: terms.root,
                                       pricePerPeriod: price, periodPulses: terms.periodPulses, periods: terms.periods, start: context.pulse,
                                       deposit: terms.deposit)
        try Holdings.withdraw(contract.escrow, from: tx.origin, in: &draft)
        try Holdings.withdraw(terms.deposit, from: terms.provider, in: &draft)
        draft.put(contract, at: id)
    }

    static func open(_ tx: Transaction, _ draft: StateDraft) throws(Rejection) -> StorageContract {
        try open(tx.decodeBody { fields throws(DecodeError) in try fields.id("contract") }, draft)
    }

    static func open(_ id: ID, _ draft: StateDraft) throws(Rejection) -> StorageContract {
        guard let contract = try draft.record(StorageContract.self, at: id), !contract.ended else {
            throw Rejection(ForwardRules.unknown, "no open storage contract \(id)")
        }
        return contract
    }

    /// Settles every completed period not yet settled: paid to the provider from escrow, or, when a
    /// challenge in it went unanswered, returned to the payer with a share of the deposit.
    static func accrue(_ contract: inout StorageContract, _ draft: inout StateDraft, _ context: BlockContext) throws(Rejection) {
        let completed = min(contract.periods, contract.period(atPulse: context.pulse))
        while contract.settledPeriods < completed {
            let period = contract.settledPeriods
            // A period whose challenge can still be answered waits for the answer or the deadline.
            if contract.challengePeriod == period && contract.challengeOpen(atPulse: context.pulse) { break }
            let price = min(contract.pricePerPeriod, contract.escrow)
            contract.escrow -= price
            if contract.challengePeriod == period && !contract.challengeAnswered {
                contract.missed += 1
                let penalty = min(contract.penaltyPerMiss, contract.deposit)
                contract.deposit -= penalty
                try Holdings.deposit(price + penalty, to: contract.payer, in: &draft)
            } else {
                try Holdings.deposit(price, to: contract.provider, in: &draft)
            }
            contract.settledPeriods += 1
        }
    }

    /// The payer draws a segment to be proven this period.
    static let challengeRule = TransactionRule(type: challenge, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        var contract = try open(tx, draft)
        guard tx.origin == contract.payer else { throw Rejection(.wrongSigners, "only the payer challenges storage contract \(contract.id)") }
        let period = contract.period(atPulse: context.pulse)
        guard period < contract.periods else { throw Rejection(over, "storage contract \(contract.id) has run its \(contract.periods) periods") }
        guard contract.challengePeriod != period else { throw Rejection(.duplicate, "period \(period) is already challenged") }
        guard !contract.challengeOpen(atPulse: context.pulse) else {
            throw Rejection(.duplicate, "the challenge of period \(contract.challengePeriod ?? 0) is open until pulse \(contract.challengeDeadline)")
        }
        try accrue(&contract, &draft, context)
        contract.challengePeriod = period
        contract.challengeIndex = StorageContract.challengeIndex(previousHash: context.previousHash, contract: contract.id, period: period, segments: contract.segments)
        contract.challengeAnswered = false
        contract.challengeDeadline = try context.pulse.adding(contract.periodPulses, what: "challenge deadline")
        draft.put(contract, at: contract.id)
    }

    /// The provider answers the open challenge with the segment and its Merkle path.
    static let proveRule = TransactionRule(type: prove, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (id, segment, path) = try tx.decodeBody { fields throws(DecodeError) in
            let id = try fields.id("contract")
            let segment = try fields.bytes("segment")
            var path: [Digest] = []
            for item in try fields.array("path", countMax: 64) {
                guard case .bytes(let raw) = item, let digest = Digest(bytes: raw) else { throw .schema("prove: path holds 32-byte hashes") }
                path.append(digest)
            }
            return (id, segment, path)
        }
        var contract = try open(id, draft)
        guard tx.origin == contract.provider else { throw Rejection(.wrongSigners, "only the provider proves storage contract \(contract.id)") }
        guard contract.challengeOpen(atPulse: context.pulse) else {
            throw Rejection(noChallenge, "storage contract \(contract.id) has no open challenge (answered, or past its deadline)")
        }
        let index = contract.challengeIndex
        let expectedBytes = index == contract.segments - 1 ? Int(contract.size - index * UInt64(StorageContract.segmentBytes)) : StorageContract.segmentBytes
        guard segment.count == expectedBytes,
            MerkleList.verify(leaf: MerkleList.leafHash(segment), index: Int(index), count: Int(contract.segments), path: path, root: contract.root)
        else { throw Rejection(badProof, "segment \(index) does not prove against the contract's root") }
        contract.challengeAnswered = true
        draft.put(contract, at: contract.id)
    }

    static let claimRule = TransactionRule(type: claim, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        var contract = try open(tx, draft)
        guard tx.origin == contract.payer || tx.origin == contract.provider else {
            throw Rejection(.wrongSigners, "only the payer or the provider settles storage contract \(contract.id)")
        }
        try accrue(&contract, &draft, context)
        draft.put(contract, at: contract.id)
    }

    /// Either side ends the contract: completed periods settle, the rest of the escrow returns to the
    /// payer, and the deposit returns to the provider — unless the provider ends it early, which
    /// forfeits the deposit to the payer.
    static let endRule = TransactionRule(type: end, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        var contract = try open(tx, draft)
        guard tx.origin == contract.payer || tx.origin == contract.provider else {
            throw Rejection(.wrongSigners, "only the payer or the provider ends storage contract \(contract.id)")
        }
        // Ending would hand the challenged period's price back to the payer before the provider could
        // answer: a challenge that can still be answered is answered (or missed) first.
        guard !contract.challengeOpen(atPulse: context.pulse) else {
            throw Rejection(.duplicate, "storage contract \(contract.id) has a challenge open until pulse \(contract.challengeDeadline); it ends after that")
        }
        try accrue(&contract, &draft, context)
        try Holdings.deposit(contract.escrow, to: contract.payer, in: &draft)
        let early = contract.settledPeriods < contract.periods
        try Holdings.deposit(contract.deposit, to: early && tx.origin == contract.provider ? contract.payer : contract.provider, in: &draft)
        contract.escrow = 0
        contract.deposit = 0
        contract.ended = true
        draft.put(contract, at: contract.id)
    }
}


