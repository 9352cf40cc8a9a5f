import Ledger

/// A storage contract: `payer` pays `provider` to keep content for `periods` periods of `periodPulses`.
/// The price is escrowed from the payer at creation, the provider's deposit with it. The payer may
/// challenge once a period: a 1 KiB segment chosen from the previous block's hash, which the provider
/// must prove with a Merkle path to the segment root both signed. Each completed period pays the
/// provider from escrow, unless a challenge went unanswered: then the period's price returns to the
/// payer and a share of the deposit is forfeited to it. Stored at
/// `ID.derived("storage", payer || provider || payer's nonce)`.
public struct StorageContract: StateRecord, Equatable {
    public static let kind = "storage"
    public static let segmentBytes = 1024
    public static let periodsMax: UInt64 = 10_000
    public static let cidBytesMax = 128

    public var id: ID
    public var payer: ID
    public var provider: ID
    public var cid: String
    public var size: UInt64
    /// RFC 6962 root over SHA256(0x00 || segment) of the content's 1 KiB segments.
    public var root: Digest
    public var pricePerPeriod: UInt64
    public var periodPulses: UInt64
    public var periods: UInt64
    public var start: UInt64
    public var escrow: UInt64
    public var deposit: UInt64
    public var penaltyPerMiss: UInt64
    public var settledPeriods: UInt64
    public var challengePeriod: UInt64?
    public var challengeIndex: UInt64
    public var challengeAnswered: Bool
    /// The last pulse at which the open challenge may be answered: one full period after it was made,
    /// wherever in its period it fell, so no challenge is unanswerable.
    public var challengeDeadline: UInt64
    public var missed: UInt64
    public var ended: Bool

    /// Content a contract may cover, at most (1 PiB): proofs index segments, and no size may wrap.
    public static let sizeBytesMax: UInt64 = 1 << 50

    /// ⌈size / 1 KiB⌉, without the overflow that `size + 1023` would have near 2^64 (found by the
    /// adversarial search: a contract of 2^64−1 bytes trapped every node on its first challenge).
    public var segments: UInt64 {
        let segment = UInt64(StorageContract.segmentBytes)
        return size / segment + (size % segment == 0 ? 0 : 1)
    }

    public func period(atPulse pulse: UInt64) -> UInt64 { pulse < start || periodPulses == 0 ? 0 : (pulse - start) / periodPulses }

    /// A challenge that is neither answered nor past its deadline.
    public func challengeOpen(atPulse pulse: UInt64) -> Bool { challengePeriod != nil && !challengeAnswered && pulse <= challengeDeadline }

    public static func stateKey(payer: ID, provider: ID, nonce: UInt64) -> ID {
        ID.derived("storage", data: payer.bytes + provider.bytes + nonce.bigEndianBytes)
    }

    /// The segment challenged in `period`: the previous block's hash, the contract and the period, hashed.
    public static func challengeIndex(previousHash: Digest, contract: ID, period: UInt64, segments: UInt64) -> UInt64 {
        let seed = SHA256.tagged("ledgerd/challenge", previousHash.bytes + contract.bytes + period.bigEndianBytes)
        let head = seed.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return head % max(segments, 1)
    }

    /// The segment root of some content, and each segment's leaf hash.
    public static func segmentLeaves(_ content: [UInt8]) -> [Digest] {
        stride(from: 0, to: content.count, by: segmentBytes).map { MerkleList.leafHash(Array(content[$0..<min($0 + segmentBytes, content.count)])) }
    }

    public var fields: [String: CBOR] {
        var map: [String: CBOR] = [
            "id": .id(id), "payer": .id(payer), "provider": .id(provider), "cid": .text(cid), "size": .unsigned(size), "root": .digest(root),
            "pricePerPeriod": .unsigned(pricePerPeriod), "periodPulses": .unsigned(periodPulses), "periods": .unsigned(periods),
            "start": .unsigned(start), "escrow": .unsigned(escrow), "deposit": .unsigned(deposit), "penaltyPerMiss": .unsigned(penaltyPerMiss),
            "settledPeriods": .unsigned(settledPeriods), "challengeIndex": .unsigned(challengeIndex), "answered": .bool(challengeAnswered),
            "missed": .unsigned(missed), "ended": .bool(ended), "challengeDeadline": .unsigned(challengeDeadline),
        ]
        map["challengePeriod"] = challengePeriod.map { .unsigned($0) } ?? .null
        return map
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        id = try fields.id("id")
        payer = try fields.id("payer")
        provider = try fields.id("provider")
        cid = try fields.text("cid", lengthMax: StorageContract.cidBytesMax)
        size = try fields.unsigned("size")
        root = try fields.digest("root")
        pricePerPeriod = try fields.unsigned("pricePerPeriod")
        periodPulses = try fields.unsigned("periodPulses")
        periods = try fields.unsigned("periods")
        start = try fields.unsigned("start")
        escrow = try fields.unsigned("escrow")
        deposit = try fields.unsigned("deposit")
        penaltyPerMiss = try fields.unsigned("penaltyPerMiss")
        settledPeriods = try fields.unsigned("settledPeriods")
        switch try fields.value("challengePeriod") {
        case .null: challengePeriod = nil
        case .unsigned(let period): challengePeriod = period
        default: throw .schema("storage: challengePeriod must be a number or null")
        }
        challengeIndex = try fields.unsigned("challengeIndex")
        challengeAnswered = try fields.bool("answered")
        challengeDeadline = try fields.unsigned("challengeDeadline")
        missed = try fields.unsigned("missed")
        ended = try fields.bool("ended")
    }

    init(id: ID, payer: ID, provider: ID, cid: String, size: UInt64, root: Digest, pricePerPeriod: UInt64, periodPulses: UInt64,
         periods: UInt64, start: UInt64, deposit: UInt64) {
        self.id = id
        self.payer = payer
        self.provider = provider
        self.cid = cid
        self.size = size
        self.root = root
        self.pricePerPeriod = pricePerPeriod
        self.periodPulses = periodPulses
        self.periods = periods
        self.start = start
        self.escrow = pricePerPeriod * periods
        self.deposit = deposit
        self.penaltyPerMiss = deposit / periods
        self.settledPeriods = 0
        self.challengePeriod = nil
        self.challengeIndex = 0
        self.challengeAnswered = false
        self.challengeDeadline = 0
        self.missed = 0
        self.ended = false
    }

    /// ⌈size × pricePerGiBDay × periodPulses / (2^30 × pulsesPerDay)⌉, or nil past 2^64−1.
    public static func price(size: UInt64, pricePerGiBDay: UInt64, periodPulses: UInt64, pulsesPerDay: UInt64) -> UInt64? {
        let (sizePriceHigh, sizePrice) = size.multipliedFullWidth(by: pricePerGiBDay)
        guard sizePriceHigh == 0 else { return nil }
        let (high, low) = sizePrice.multipliedFullWidth(by: periodPulses)
        let divisor = (UInt64(1) << 30).multipliedReportingOverflow(by: pulsesPerDay)
        guard !divisor.overflow, high < divisor.partialValue else { return nil }
        let (quotient, remainder) = divisor.partialValue.dividingFullWidth((high, low))
        return remainder == 0 ? quotient : quotient.addingReportingOverflow(1).overflow ? nil : quotient + 1
    }
}
