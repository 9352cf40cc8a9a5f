import Credit
import Foundation
import Ledger
import Logging
import Storage

/// Every Bitswap byte and DHT answer between ledger nodes, billed into the ledger (specs/credit.md
/// §Metering in practice, specs/p2p.md §6 and §7.4). A DHT answer counts as the chain's `dhtQuery`
/// price in bytes, so both services share one stream, one receipt and one settlement per peer.
///
/// As a consumer, the node counts the wanted blocks each provider delivers and, every
/// `policy.receiptInterval` bytes (and each round for the remainder), signs a cumulative bandwidth
/// receipt and sends it over `/ledgerd/receipt/1.0.0`; the provider answers with its acknowledgement,
/// which the node keeps as its evidence. It signs only for providers that grant it a line: without one,
/// service is the provider's free allowance and nothing is owed.
///
/// As a provider, the node counts what it serves each consumer, admits each block by `MeteringPolicy`,
/// checks every receipt (the consumer's signature, this node as provider, this chain, no more units than
/// it served plus the tolerance, numbers and units rising), settles the newest on the chain when it is
/// due, at `settleInterval` or when service stopped, and disputes a consumer's stale settlement with it.
///
/// Both sides watch the chain: a consumer disputes a provider's settlement of more units than the
/// provider acknowledged for the same receipt number, with that acknowledgement.
public actor Metering: UsageMeter {
    public static let protocolID = "/ledgerd/receipt/1.0.0"
    static let messageBytesMax = 1_024
    static let answerMillis = 10_000
    /// How long a submitted settlement or dispute is waited for before it is tried again.
    static let retrySeconds = 30.0
    /// Peers without a line whose free use today is counted (the rest start the day afresh).
    static let freePeersMax = 16_384

    public struct Settings: Sendable {
        public var policy = MeteringPolicy()
        /// Settle the newest receipt at least this often while something is unsettled.
        public var settleInterval: Double = 3_600
        /// Sign receipts as a consumer (off only to test a consumer that stops signing).
        public var signReceipts = true
        /// Receipts that add less than an interval are taken at most this often (the remainder's, each round).
        public var smallReceiptSeconds = 1.0
        public init() {}
    }

    let key: SecretKey
    let me: ID
    let node: LedgerNode
    let swarm: Swarm
    let book: ReceiptBook
    let settings: Settings
    let logger: Logger
    var policy: MeteringPolicy { settings.policy }

    /// Provider side, by consumer: served bytes and the newest receipt.
    private var provided: [ID: ReceiptBook.Stream] = [:]
    private var receipts: [ID: SignedReceipt] = [:]
    /// Consumer side, by provider: received bytes and the newest receipt signed.
    private var consumed: [ID: ReceiptBook.Stream] = [:]
    private var dirty: (provided: Set<ID>, consumed: Set<ID>) = ([], [])
    /// Served bytes last written, per consumer.
    private var saved: [ID: UInt64] = [:]
    /// The peer each provider delivered from last (where receipts go).
    private var providerPeers: [ID: PeerID] = [:]
    private var signing: Set<ID> = []
    /// Chain standings, by (provider, consumer), until the next block or a second old.
    private var standings: [[UInt8]: (at: Date, limit: UInt64, owed: UInt64, settlement: Settlement?)] = [:]
    private var free: (day: Int64, used: [PeerID: UInt64]) = (0, [:])
    /// Why each consumer is stopped now (for the API and to log each stop once).
    private var stopped: [ID: MeteringPolicy.Decision] = [:]
    private var lastSettled: [ID: Date] = [:]
    /// Settlements and disputes submitted and not yet seen on the chain: what and when.
    private var submitted: [String: Date] = [:]

    public init(key: SecretKey, node: LedgerNode, swarm: Swarm, book: ReceiptBook, settings: Settings = Settings(),
                logger: Logger = .quiet("ledgerd.metering")) throws {
        self.key = key
        me = key.publicKey.id
        self.node = node
        self.swarm = swarm
        self.book = book
        self.settings = settings
        self.logger = logger
        for stream in try book.streams(.provided) {
            guard let consumer = ID(bytes: stream.party) else { continue }
            provided[consumer] = stream
            saved[consumer] = stream.moved
            receipts[consumer] = stream.receipt.flatMap { try? SignedReceipt(encoded: $0) }
        }
        for stream in try book.streams(.consumed) {
            guard let provider = ID(bytes: stream.party) else { continue }
            consumed[provider] = stream
        }
    }

    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
        await node.observeBlocks { [weak self] _ in await self?.chainMoved() }
    }

    private func chainMoved() { standings.removeAll(keepingCapacity: true) }

    private func standing(provider: ID, consumer: ID) async -> (limit: UInt64, owed: UInt64, settlement: Settlement?) {
        let key = provider.bytes + consumer.bytes
        if let cached = standings[key], Date().timeIntervalSince(cached.at) < 1 { return (cached.limit, cached.owed, cached.settlement) }
        let found = await node.standing(provider: provider, consumer: consumer)
        standings[key] = (Date(), found.limit, found.owed, found.settlement)
        return found
    }

    private func standing(of consumer: ID) async -> MeteringPolicy.Standing {
        let chain = await standing(provider: me, consumer: consumer)
        let stream = provided[consumer] ?? ReceiptBook.Stream(party: consumer.bytes)
        return MeteringPolicy.Standing(limit: chain.limit, owed: chain.owed, settled: chain.settlement?.units ?? 0, served: stream.moved,
                                       receipted: stream.units)
    }

    // MARK: - Provider

    public func admit(_ peer: PeerID, bytes: Int) async -> Bool {
        let bytes = UInt64(max(0, bytes))
        let consumer = peer.ledgerID
        let standing = if let consumer { await standing(of: consumer) } else {
            MeteringPolicy.Standing(limit: 0, owed: 0, settled: 0, served: 0, receipted: 0)
        }
        let today = Int64(Date().timeIntervalSince1970) / 86_400
        if free.day != today { free = (today, [:]) }
        let decision = policy.admit(bytes, standing: standing, freeUsedToday: free.used[peer] ?? 0)
        guard decision == .serve else {
            if let consumer, standing.hasLine {
                if stopped[consumer] == nil {
                    logger.info("metering stopped serving a peer", metadata: ["peer": "\(peer.short)", "reason": "\(decision)"])
                    Task { await self.settle(consumer) }
                }
                stopped[consumer] = decision
            }
            return false
        }
        if let consumer, standing.hasLine {
            if stopped.removeValue(forKey: consumer) != nil { logger.info("metering resumed serving a peer", metadata: ["peer": "\(peer.short)"]) }
            provided[consumer, default: ReceiptBook.Stream(party: consumer.bytes)].moved &+= bytes
            dirty.provided.insert(consumer)
            // Written every receipt interval, not only each round: a provider that restarted with fewer
            // bytes counted than its consumer received would refuse that consumer's receipts for good.
            if let stream = provided[consumer], stream.moved - min(stream.moved, saved[consumer] ?? 0) >= policy.receiptInterval {
                do {
                    try book.save(.provided, [stream])
                    saved[consumer] = stream.moved
                } catch { logger.warning("could not save the metering counters", metadata: ["error": "\(error)"]) }
            }
        } else {
            if free.used[peer] == nil && free.used.count >= Self.freePeersMax, let any = free.used.keys.first { free.used[any] = nil }
            free.used[peer, default: 0] &+= bytes
        }
        return true
    }

    public func undelivered(_ peer: PeerID, bytes: Int) async {
        let bytes = UInt64(max(0, bytes))
        // Refunded where `admit` charged it: the line's stream only while the peer has a line.
        let onLine = if let consumer = peer.ledgerID { await standing(of: consumer).hasLine } else { false }
        if onLine, let consumer = peer.ledgerID, var stream = provided[consumer] {
            stream.moved -= min(stream.moved, bytes)
            provided[consumer] = stream
            dirty.provided.insert(consumer)
        } else if let used = free.used[peer] {
            free.used[peer] = used - min(used, bytes)
        }
    }

    /// One receipt per stream: the consumer's signed receipt in, `{ack}` or `{error}` out.
    private nonisolated func serve(_ stream: P2PStream) async throws {
        defer { Task { await stream.close() } }
        guard let bytes = try await stream.readMessageOrEnd(max: Self.messageBytesMax) else { return }
        guard let signed = try? SignedReceipt(encoded: bytes) else { throw WireError.malformed("receipt message is not a signed receipt") }
        // A forged receipt, or one signed by a consumer that is not the sending peer, is an attack, not a mistake.
        guard (try? signed.verify()) != nil else { throw WireError.malformed("receipt whose signature does not verify") }
        guard let consumer = stream.peer.ledgerID, consumer == signed.receipt.consumer else {
            throw WireError.malformed("receipt for a consumer that is not the sending peer")
        }
        let answer: CBOR
        switch await accept(signed) {
        case .success(let ack): answer = .map(["ack": .bytes(ack.encoded)])
        case .failure(let why):
            var fields: [String: CBOR] = ["error": .text(why.text)]
            if let counted = why.counted { fields["served"] = .unsigned(counted.served); fields["receipted"] = .unsigned(counted.receipted) }
            answer = .map(fields)
        }
        try await stream.writeMessage(CBOREncoder.encode(answer))
    }

    struct Refusal: Error {
        let text: String
        /// For a receipt counting more than was served: this node's counts, which the consumer may go down to.
        var counted: (served: UInt64, receipted: UInt64)? = nil
    }

    private var lastReceipt: [ID: Date] = [:]

    /// Checks a consumer's receipt (signature and sender checked already) and keeps it: the acknowledgement.
    func accept(_ signed: SignedReceipt) async -> Result<ReceiptAcknowledgement, Refusal> {
        let receipt = signed.receipt, consumer = receipt.consumer
        guard receipt.provider == me else { return .failure(Refusal(text: "the receipt names another provider")) }
        guard receipt.chain.sameBytes(as: node.chainID) else { return .failure(Refusal(text: "the receipt is for chain '\(receipt.chain)'")) }
        guard receipt.service == .bandwidth else { return .failure(Refusal(text: "this node meters bandwidth receipts here")) }
        // The book stores numbers as SQLite integers: larger ones would read back smaller after a restart,
        // and let one number be acknowledged twice.
        guard receipt.sequence <= UInt64(Int64.max), receipt.units <= UInt64(Int64.max) else {
            return .failure(Refusal(text: "receipt numbers and units stop at 2^63 - 1"))
        }
        let chain = await standing(provider: me, consumer: consumer)
        // Nothing after this await: the checks and the update below see one state.
        guard chain.limit > 0 || chain.owed > 0, var stream = provided[consumer] else {
            return .failure(Refusal(text: "this node grants you no line: its service was free, and there is nothing to receipt"))
        }
        guard receipt.units <= MeteringPolicy.Standing.sum(stream.moved, policy.tolerance) else {
            return .failure(Refusal(text: "the receipt counts \(receipt.units) bytes; this node served \(stream.moved)", counted: (stream.moved, stream.units)))
        }
        // One acknowledgement per number, numbers and units rising: the discipline that makes an
        // acknowledgement the consumer's evidence (specs/credit.md).
        guard receipt.sequence > stream.sequence, receipt.units > stream.units else {
            return .failure(Refusal(text: "stale receipt: number \(receipt.sequence) for \(receipt.units) bytes, after number \(stream.sequence) for \(stream.units)"))
        }
        if receipt.units - stream.units < policy.receiptInterval, let last = lastReceipt[consumer], Date().timeIntervalSince(last) < settings.smallReceiptSeconds {
            return .failure(Refusal(text: "a receipt adding less than \(policy.receiptInterval) bytes comes at most once every \(settings.smallReceiptSeconds) s"))
        }
        lastReceipt[consumer] = Date()
        stream.units = receipt.units
        stream.sequence = receipt.sequence
        stream.receipt = signed.encoded
        do { try book.save(.provided, [stream]) } catch {
            return .failure(Refusal(text: "this node could not keep the receipt"))
        }
        provided[consumer] = stream
        receipts[consumer] = signed
        dirty.provided.remove(consumer)
        return .success(ReceiptAcknowledgement(receipt: receipt, providerKey: key))
    }

    /// Settles the newest receipt of `consumer`'s stream when it adds units; a consumer's own stale
    /// settlement in its window is disputed with it instead.
    func settle(_ consumer: ID) async {
        guard let signed = receipts[consumer] else { return }
        let chain = await standing(provider: me, consumer: consumer)
        let record = chain.settlement
        guard signed.receipt.units > (record?.units ?? 0) else { return }
        let pulse = await node.currentPulse
        let theirs = record.map { $0.pending && $0.submitter == consumer && pulse <= $0.windowEnd } ?? false
        let type = theirs ? SettlementRules.dispute : SettlementRules.settle
        let what = "\(type) \(consumer) \(signed.receipt.units)"
        if let at = submitted[what], Date().timeIntervalSince(at) < Self.retrySeconds { return }
        submitted[what] = Date()
        lastSettled[consumer] = Date()
        do {
            _ = try await node.submitOwn(type, body: SettlementRules.body(signed), key: key)
            logger.info(theirs ? "disputed a consumer's stale settlement" : "settling usage", metadata: [
                "consumer": "\(consumer)", "units": "\(signed.receipt.units)", "sequence": "\(signed.receipt.sequence)",
            ])
        } catch {
            logger.warning("settlement not accepted", metadata: ["consumer": "\(consumer)", "reason": "\(error)"])
        }
    }

    // MARK: - Consumer

    public func delivered(_ peer: PeerID, bytes: Int) async {
        guard settings.signReceipts, let provider = peer.ledgerID, provider != me else { return }
        // Billed only under a line the provider grants: otherwise it was its free allowance.
        let chain = await standing(provider: provider, consumer: me)
        guard chain.limit > 0 || chain.owed > 0 else { return }
        consumed[provider, default: ReceiptBook.Stream(party: provider.bytes)].moved &+= UInt64(max(0, bytes))
        providerPeers[provider] = peer
        dirty.consumed.insert(provider)
        if let stream = consumed[provider], stream.moved - min(stream.moved, stream.units) >= policy.receiptInterval { signAndSend(provider) }
    }

    /// A provider among `peers` whose line this node has used up (its debt and unsettled usage at the
    /// limit): the likely reason it answered as if it held nothing.
    public func refusal(among peers: Set<PeerID>) async -> String? {
        for peer in peers.sorted() {
            guard let provider = peer.ledgerID, let stream = consumed[provider] else { continue }
            let chain = await standing(provider: provider, consumer: me)
            let unsettled = stream.moved - min(stream.moved, chain.settlement?.units ?? 0)
            let exposure = MeteringPolicy.Standing.sum(chain.owed, unsettled)
            guard exposure >= chain.limit else { continue }
            return "provider \(provider) stopped serving this node: \(exposure) bytes unpaid against its limit of \(chain.limit) (raise the limit or pay the debt)"
        }
        return nil
    }

    private func signAndSend(_ provider: ID) {
        guard signing.insert(provider).inserted else { return }
        Task { await self.sendReceipts(provider) }
    }

    /// Signs receipts for what `provider` delivered and sends them until none is due; the sequence is
    /// written before a receipt leaves, so that no number is ever signed twice, even across a crash.
    private func sendReceipts(_ provider: ID) async {
        defer { signing.remove(provider) }
        while var stream = consumed[provider], stream.moved > stream.units, let peer = providerPeers[provider] {
            let receipt = UsageReceipt(chain: node.chainID, provider: provider, consumer: me, service: .bandwidth,
                                       sequence: stream.sequence + 1, units: stream.moved)
            let signed = SignedReceipt(receipt: receipt, key: key)
            stream.units = receipt.units
            stream.sequence = receipt.sequence
            stream.receipt = signed.encoded
            do { try book.save(.consumed, [stream]) } catch {
                logger.warning("could not keep a signed receipt", metadata: ["error": "\(error)"])
                return
            }
            consumed[provider] = stream
            dirty.consumed.remove(provider)
            let outcome = await Self.exchange(signed, to: peer, swarm: swarm, logger: logger)
            if case .counted(let served, let receipted) = outcome, served < stream.moved, receipted < stream.units {
                // The provider counted less than this node did (a line seen a block apart, a crash): go down
                // to its count, never up, and sign for it next round.
                stream.moved = served
                stream.units = receipted
                do { try book.save(.consumed, [stream]) } catch {}
                consumed[provider] = stream
                return
            }
            guard case .acknowledged(let ack) = outcome else { return }
            do { try book.saveAck(provider: provider.bytes, sequence: receipt.sequence, units: receipt.units, ack: ack.encoded) } catch {
                logger.warning("could not keep an acknowledgement", metadata: ["error": "\(error)"])
            }
            // Only a full interval more is sent at once; the remainder waits for the next round.
            guard let now = consumed[provider], now.moved - min(now.moved, now.units) >= policy.receiptInterval else { return }
        }
    }

    enum Outcome {
        case acknowledged(ReceiptAcknowledgement)
        /// Refused for counting more than the provider served, with the provider's counts.
        case counted(served: UInt64, receipted: UInt64)
        case failed
    }

    /// Sends one receipt; the provider's acknowledgement of exactly it, or nil.
    static func send(_ signed: SignedReceipt, to peer: PeerID, swarm: Swarm, logger: Logger) async -> ReceiptAcknowledgement? {
        guard case .acknowledged(let ack) = await exchange(signed, to: peer, swarm: swarm, logger: logger) else { return nil }
        return ack
    }

    static func exchange(_ signed: SignedReceipt, to peer: PeerID, swarm: Swarm, logger: Logger, protocolID: String = protocolID) async -> Outcome {
        guard let stream = try? await swarm.openStream(to: peer, protocols: [protocolID]) else { return .failed }
        defer { Task { await stream.close() } }
        guard let bytes = try? await withDeadline(millis: answerMillis, "receipt to \(peer.short)", expire: { await stream.reset() }, {
            try await stream.writeMessage(signed.encoded)
            return try await stream.readMessageOrEnd(max: messageBytesMax)
        }), let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor else { return .failed }
        if case .text(let why)? = fields["error"] {
            logger.warning("provider refused a receipt", metadata: ["peer": "\(peer.short)", "reason": "\(why.prefix(200))"])
            if case .unsigned(let served)? = fields["served"], case .unsigned(let receipted)? = fields["receipted"] { return .counted(served: served, receipted: receipted) }
            return .failed
        }
        guard case .bytes(let encoded)? = fields["ack"], let ack = try? ReceiptAcknowledgement(encoded: encoded), ack.receipt == signed.receipt,
              (try? ack.verify()) != nil else { return .failed }
        return .acknowledged(ack)
    }

    /// A provider's settlement in its window of more units than it acknowledged for that receipt number
    /// is disputed with the acknowledgement.
    func watch(_ provider: ID) async {
        let chain = await standing(provider: provider, consumer: me)
        guard let record = chain.settlement, record.pending, record.submitter == provider,
              let kept = try? book.ack(provider: provider.bytes, sequence: record.sequence), kept.units < record.units,
              let ack = try? ReceiptAcknowledgement(encoded: kept.ack) else { return }
        let what = "dispute \(provider) \(record.sequence) \(record.units)"
        if let at = submitted[what], Date().timeIntervalSince(at) < Self.retrySeconds { return }
        submitted[what] = Date()
        do {
            _ = try await node.submitOwn(SettlementRules.dispute, body: SettlementRules.disputeBody(acknowledgement: ack), key: key)
            logger.warning("disputed a provider's settlement of more than it acknowledged", metadata: [
                "provider": "\(provider)", "sequence": "\(record.sequence)", "settled": "\(record.units)", "acknowledged": "\(kept.units)",
            ])
        } catch {
            logger.warning("dispute not accepted", metadata: ["provider": "\(provider)", "reason": "\(error)"])
        }
    }

    // MARK: - Rounds

    /// Every P2P round: counters to disk, receipts for remainders, settlements due, disputes to raise.
    public func round() async {
        persist()
        for provider in consumed.keys where settings.signReceipts {
            if let stream = consumed[provider], stream.moved > stream.units { signAndSend(provider) }
            await watch(provider)
        }
        for consumer in receipts.keys {
            let current = await standing(of: consumer)
            guard current.receipted > current.settled else { continue }
            let interval = Date().timeIntervalSince(lastSettled[consumer] ?? .distantPast) >= settings.settleInterval
            // The consumer's own settlement of fewer units than its newest receipt is disputed at once.
            let theirs = await self.standing(provider: me, consumer: consumer).settlement.map { $0.pending && $0.submitter == consumer } ?? false
            if policy.settleDue(current) || stopped[consumer] != nil || interval || theirs { await settle(consumer) }
        }
        submitted = submitted.filter { Date().timeIntervalSince($0.value) < Self.retrySeconds }
    }

    /// Writes the counters that moved since the last round.
    public func persist() {
        do {
            try book.save(.provided, dirty.provided.compactMap { provided[$0] })
            try book.save(.consumed, dirty.consumed.compactMap { consumed[$0] })
            dirty = ([], [])
        } catch {
            logger.warning("could not save the metering counters", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Report

    public struct Report: Sendable {
        public struct Provided: Sendable {
            public let consumer: ID
            public let standing: MeteringPolicy.Standing
            public let sequence: UInt64
            public let stopped: String?
        }
        public struct Consumed: Sendable {
            public let provider: ID
            public let received: UInt64
            public let signed: UInt64
            public let sequence: UInt64
            public let settled: UInt64
            public let owed: UInt64
            public let limit: UInt64
        }
        public let provided: [Provided]
        public let consumed: [Consumed]
    }

    /// Both sides' streams with their standing on the chain (for the API and the CLI).
    public func report() async -> Report {
        var provided: [Report.Provided] = []
        for consumer in self.provided.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            provided.append(Report.Provided(consumer: consumer, standing: await standing(of: consumer), sequence: self.provided[consumer]?.sequence ?? 0,
                                            stopped: stopped[consumer].map(\.description)))
        }
        var consumed: [Report.Consumed] = []
        for provider in self.consumed.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            let stream = self.consumed[provider] ?? ReceiptBook.Stream(party: provider.bytes)
            let chain = await standing(provider: provider, consumer: me)
            consumed.append(Report.Consumed(provider: provider, received: stream.moved, signed: stream.units, sequence: stream.sequence,
                                            settled: chain.settlement?.units ?? 0, owed: chain.owed, limit: chain.limit))
        }
        return Report(provided: provided, consumed: consumed)
    }
}
