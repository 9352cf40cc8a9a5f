import Foundation
import Ledger
import Logging
import Storage

/// Bitswap 1.2.0 (`/ipfs/bitswap/1.2.0`; specs/p2p.md §Bitswap) over this node's content store, as
/// server and client.
///
/// Server: a peer's want-list entries are queued per peer and answered in order by one task per peer on a
/// stream this node opens: a block (want-block), HAVE (want-have), or DONT_HAVE when the peer asked for
/// it; a want neither held nor answerable is remembered and answered when the block arrives. Blocks are
/// read from the store as each answer is built, at most `blockBytesPerMessage` per message, and written
/// with the stream's back-pressure, so a peer that wants much and reads slowly costs one message of memory.
///
/// Client: `block(_:candidates:)` asks one candidate at a time for a block (want-block with
/// send-DONT_HAVE), moving to the next on DONT_HAVE, on a dropped connection, or after `askTimeout`; the
/// block is checked by rebuilding its CID from the prefix and the data's hash, stored, and handed to every
/// waiter. Concurrent requests for one CID share one want.
///
/// Hostile peers: a message with more than `entriesPerMessage` entries, a peer holding more than
/// `wantsPerPeer` unanswered wants, a malformed block prefix, or a block whose CID is nothing this node
/// asked for (neither wanted nor recently received) bans the sender (a WireError, which the swarm turns
/// into a ban and a dropped connection).
public actor Bitswap {
    public static let protocolID = "/ipfs/bitswap/1.2.0"

    public struct Limits: Sendable {
        /// Entries (wants, blocks and presences together) in one message, at most.
        public var entriesPerMessage = 8_192
        /// Wants a peer may hold queued or remembered at once.
        public var wantsPerPeer = 4_096
        /// Block bytes this node puts in one answer (at least one block goes in each).
        public var blockBytesPerMessage = 1 << 20
        /// How long one candidate has to answer a want-block before the next is asked.
        public var askTimeout: Duration = .seconds(8)
        public init() {}
    }

    public nonisolated let swarm: Swarm
    public nonisolated let store: ContentStore
    public nonisolated let limits: Limits
    /// Bills blocks served and received (nil: unmetered).
    public nonisolated let meter: (any UsageMeter)?
    private let logger: Logger
    private let outbox: PeerOutbox

    // Server state: what each peer wants from us.
    private var ledgers: [PeerID: PeerWants] = [:]
    private var serving: Set<PeerID> = []

    // Client state: what we want from peers.
    private var wants: [CID: Want] = [:]
    private var recent = RecentCIDs(capacity: 16_384)
    /// CIDs asked of any peer lately: their blocks arriving late are not offences.
    private var asked = RecentCIDs(capacity: 65_536)
    /// Which peer each recent want was asked of: a block is billed only by a peer asked for it, late or not.
    private var askedOf = RecentSet<AskedBlock>(capacity: 65_536)
    struct AskedBlock: Hashable {
        let cid: CID
        let peer: PeerID
    }
    /// The last send queued per peer: each send to a peer waits for the one before, so they leave in order.
    private var sending: [PeerID: (number: Int, task: Task<Void, Never>)] = [:]
    private var sendNumber = 0
    private var nextWaiter = 0

    /// Counters for tests, logs and the metrics route.
    public private(set) var counters = Counters()
    public struct Counters: Sendable, Equatable {
        public var blocksServed = 0
        public var bytesServed = 0
        public var blocksReceived = 0
        public var bytesReceived = 0
        public var duplicateBlocks = 0
        public var presencesSent = 0
    }

    public init(swarm: Swarm, store: ContentStore, limits: Limits = Limits(), meter: (any UsageMeter)? = nil,
                logger: Logger = .quiet("ledgerd.bitswap")) {
        self.swarm = swarm
        self.store = store
        self.limits = limits
        self.meter = meter
        self.logger = logger
        outbox = PeerOutbox(swarm: swarm, protocolName: Self.protocolID, queueMax: 4_096, bytesMax: 4 << 20, logger: logger)
    }

    /// Registers the protocol and forgets a peer's wants (and moves our asks on) when it disconnects.
    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
        await swarm.observeConnections { [weak self] peer, connected in
            guard let self, !connected else { return }
            await self.disconnected(peer)
        }
    }

    /// Peers connected now that speak Bitswap.
    public func connectedPeers() async -> [PeerID] {
        await swarm.connectedPeers.map(\.peer).filter { swarm.addressBook.entry($0)?.protocols.contains(Self.protocolID) == true }
    }

    private func disconnected(_ peer: PeerID) async {
        ledgers[peer] = nil
        await outbox.close(peer)
        for (cid, want) in wants where want.asked == peer { askNext(cid) }
    }

    // MARK: - Receiving

    private nonisolated func serve(_ stream: P2PStream) async throws {
        let peer = stream.peer
        while let bytes = try await stream.readMessageOrEnd(max: BitswapMessage.maxSize) {
            let message = try BitswapMessage(bytes: bytes, maxEntries: limits.entriesPerMessage)
            try await received(message, from: peer)
        }
        await stream.close()
    }

    /// Handles one message: its want-list (server side), then its blocks and presences (client side).
    func received(_ message: BitswapMessage, from peer: PeerID) throws(WireError) {
        if message.full || !message.entries.isEmpty { noteWants(message, from: peer) }
        for block in message.blocks {
            guard let cid = try BitswapMessage.cid(prefix: block.prefix, data: block.data) else {
                throw .malformed("Bitswap block under a hash function this node never asks for")
            }
            try arrived(cid, block.data, from: peer)
        }
        for data in message.legacyBlocks { try arrived(CID.v0(data), data, from: peer) }
        for presence in message.presences where presence.type == .dontHave {
            guard let cid = try? CID(bytes: presence.cid), wants[cid]?.asked == peer else { continue }
            askNext(cid)
        }
    }

    // MARK: - Server

    struct PeerWants {
        /// Wants to answer, in arrival order (a cancelled one stays in `order` but leaves `pending`).
        var order: [[UInt8]] = []
        var pending: [[UInt8]: BitswapMessage.Entry] = [:]
        /// Wants not held and not to be refused: answered when the block arrives.
        var remembered: [[UInt8]: BitswapMessage.Entry] = [:]
        /// Wants being answered now: one cancelled meanwhile is not remembered afterwards.
        var answering: Set<[UInt8]> = []
        var count: Int { pending.count + remembered.count }
    }

    /// The longest CID a want may name (a sha2-512 CIDv1 is 68 bytes): longer ones are not CIDs.
    static let cidBytesMax = 128

    private func noteWants(_ message: BitswapMessage, from peer: PeerID) {
        var ledger = ledgers[peer] ?? PeerWants()
        if message.full { ledger = PeerWants() }
        for entry in message.entries {
            if entry.cancel {
                ledger.pending[entry.cid] = nil
                ledger.remembered[entry.cid] = nil
                ledger.answering.remove(entry.cid)
                continue
            }
            // Not a CID this node can hold: DONT_HAVE if asked for, else nothing; never remembered.
            if entry.cid.count > Self.cidBytesMax || (try? CID(bytes: entry.cid)) == nil {
                guard entry.sendDontHave, entry.cid.count <= Self.cidBytesMax else { continue }
            }
            // Past the limit, further wants are dropped (as boxo truncates), not queued.
            guard ledger.pending[entry.cid] != nil || ledger.count < limits.wantsPerPeer else { continue }
            if ledger.pending[entry.cid] == nil { ledger.order.append(entry.cid) }
            ledger.remembered[entry.cid] = nil
            ledger.pending[entry.cid] = entry
        }
        // Wanted, cancelled and wanted again leaves stale places in `order`: drop them before they pile up.
        if ledger.pending.isEmpty { ledger.order.removeAll() }
        if ledger.order.count > 2 * limits.wantsPerPeer { ledger.order = ledger.order.filter { ledger.pending[$0] != nil } }
        ledgers[peer] = ledger
        startServing(peer)
    }

    private func startServing(_ peer: PeerID) {
        guard ledgers[peer]?.pending.isEmpty == false, serving.insert(peer).inserted else { return }
        Task { await self.answer(peer) }
    }

    /// Takes up to `count` wants to answer, or nil (and the peer leaves `serving`) when none is left.
    /// `remember`: wants of the last batch that were neither held nor to be refused.
    private func nextWants(of peer: PeerID, count: Int, remember: [BitswapMessage.Entry]) -> [BitswapMessage.Entry]? {
        guard var ledger = ledgers[peer] else {
            serving.remove(peer)
            return nil
        }
        for entry in remember where ledger.answering.contains(entry.cid) && ledger.pending[entry.cid] == nil && ledger.count < limits.wantsPerPeer
            && (try? CID(bytes: entry.cid)) != nil {
            ledger.remembered[entry.cid] = entry
        }
        ledger.answering.removeAll()
        var taken: [BitswapMessage.Entry] = []
        var index = 0
        while index < ledger.order.count && taken.count < count {
            if let entry = ledger.pending.removeValue(forKey: ledger.order[index]) {
                taken.append(entry)
                ledger.answering.insert(entry.cid)
            }
            index += 1
        }
        ledger.order.removeFirst(index)
        ledgers[peer] = ledger
        if taken.isEmpty { serving.remove(peer) }
        return taken.isEmpty ? nil : taken
    }

    private func served(blocks: Int, bytes: Int, presences: Int) {
        counters.blocksServed += blocks
        counters.bytesServed += bytes
        counters.presencesSent += presences
    }

    /// One peer's answers on a stream this node opens (reopened once if it breaks). Each message is
    /// written before the next is built, so a peer that reads slowly holds at most one message here.
    private nonisolated func answer(_ peer: PeerID) async {
        var stream: P2PStream?
        var remember: [BitswapMessage.Entry] = []
        defer { if let stream { Task { await stream.close() } } }
        func write(_ message: BitswapMessage) async {
            guard !message.isEmpty else { return }
            for attempt in 0..<2 {
                do {
                    if stream == nil { stream = try await swarm.openStream(to: peer, protocols: [Self.protocolID]) }
                    try await stream?.writeMessage(message.bytes)
                    await served(blocks: message.blocks.count, bytes: message.blocks.reduce(0) { $0 + $1.data.count }, presences: message.presences.count)
                    return
                } catch {
                    await stream?.reset()
                    stream = nil
                    if attempt == 1 {
                        logger.debug("Bitswap answer not delivered", metadata: ["peer": "\(peer.short)", "error": "\(error)"])
                        // Its blocks were counted when admitted; they never left.
                        if let meter, !message.blocks.isEmpty { await meter.undelivered(peer, bytes: message.blocks.reduce(0) { $0 + $1.data.count }) }
                    }
                }
            }
        }
        while let entries = await nextWants(of: peer, count: 64, remember: remember) {
            remember = []
            var message = BitswapMessage()
            var blockBytes = 0
            for entry in entries {
                let cid = try? CID(bytes: entry.cid)
                // A private MiMei's block is never given over Bitswap, whoever asks: it is answered exactly
                // as a block not held (readers fetch it through the head exchange, which names the MiMei).
                let hidden = cid.map { (try? store.readable($0, by: .stranger)) != true } ?? false
                var block = hidden ? nil : cid.flatMap { try? store.get($0) }
                // Past the peer's credit (or its free allowance), a block is answered as one not held, until
                // the debt is settled or the limit raised (specs/credit.md §Metering in practice).
                if entry.wantType == .block, let held = block, let meter, !(await meter.admit(peer, bytes: held.count)) { block = nil }
                switch (entry.wantType, block) {
                case (.have, .some):
                    message.presences.append((entry.cid, .have))
                case (.block, .some(let block)):
                    if blockBytes > 0 && blockBytes + block.count > limits.blockBytesPerMessage {
                        await write(message)
                        message = BitswapMessage()
                        blockBytes = 0
                    }
                    message.blocks.append(.init(prefix: cid.map(BitswapMessage.prefix) ?? [], data: block))
                    blockBytes += block.count
                case (_, .none):
                    if entry.sendDontHave { message.presences.append((entry.cid, .dontHave)) } else { remember.append(entry) }
                }
            }
            await write(message)
        }
    }

    /// A block this node now holds: peers that wanted it and were told nothing get it now.
    private func nowHeld(_ cid: CID) {
        for (peer, var ledger) in ledgers {
            guard let entry = ledger.remembered.removeValue(forKey: cid.bytes) else { continue }
            ledger.order.append(entry.cid)
            ledger.pending[entry.cid] = entry
            ledgers[peer] = ledger
            startServing(peer)
        }
    }

    // MARK: - Client

    struct Want {
        var waiters: [Int: CheckedContinuation<Result<Delivery, BitswapError>, Never>] = [:]
        var candidates: [PeerID]
        var next = 0
        var asked: PeerID?
        var askedPeers: Set<PeerID> = []
        var generation = 0
    }

    /// A block and the peer it came from (nil: it was in the store already).
    public struct Delivery: Sendable {
        public let data: [UInt8]
        public let peer: PeerID?
    }

    /// The block, from the store or else from the first of `candidates` that has it.
    public func block(_ cid: CID, candidates: [PeerID]) async throws(BitswapError) -> Delivery {
        do { if let held = try store.get(cid) { return Delivery(data: held, peer: nil) } } catch { throw .store("\(error)") }
        nextWaiter += 1
        let waiter = nextWaiter
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Delivery, BitswapError>, Never>) in
                if var want = wants[cid] {
                    want.waiters[waiter] = continuation
                    want.candidates += candidates.filter { !want.candidates.contains($0) }
                    wants[cid] = want
                    if want.asked == nil { askNext(cid) }
                } else {
                    wants[cid] = Want(waiters: [waiter: continuation], candidates: candidates)
                    askNext(cid)
                }
            }
        } onCancel: {
            Task { await self.abandon(cid, waiter) }
        }
        return try result.get()
    }

    private func abandon(_ cid: CID, _ waiter: Int) {
        guard var want = wants[cid], let continuation = want.waiters.removeValue(forKey: waiter) else { return }
        continuation.resume(returning: .failure(.cancelled))
        if want.waiters.isEmpty {
            wants[cid] = want
            finish(cid, .failure(.cancelled))
        } else {
            wants[cid] = want
        }
    }

    /// Asks the next candidate, or fails the want when none is left. The peer asked before is told to
    /// cancel (an honest one would otherwise send the block whenever it got it).
    private func askNext(_ cid: CID) {
        guard var want = wants[cid] else { return }
        if let previous = want.asked { cancel(cid, at: [previous]) }
        while want.next < want.candidates.count {
            let peer = want.candidates[want.next]
            want.next += 1
            guard peer != swarm.peerID, swarm.peerGuard.banReason(peer) == nil else { continue }
            want.asked = peer
            want.askedPeers.insert(peer)
            want.generation += 1
            wants[cid] = want
            asked.insert(cid)
            askedOf.insert(AskedBlock(cid: cid, peer: peer))
            let generation = want.generation, timeout = limits.askTimeout
            let message = BitswapMessage(entries: [.init(cid: cid.bytes, wantType: .block, sendDontHave: true)])
            send(message.bytes, to: peer, unreachable: { await $0.unreachable(cid, peer, generation) })
            Task {
                try? await Task.sleep(for: timeout)
                self.timedOut(cid, generation)
            }
            return
        }
        want.asked = nil
        wants[cid] = want
        // Every candidate said no: when one of them stopped serving this node for its credit, say so.
        guard let meter else { return finish(cid, .failure(.notFound(cid, asked: want.askedPeers.count))) }
        let peers = want.askedPeers, generation = want.generation
        Task {
            let reason = await meter.refusal(among: peers)
            self.failed(cid, generation: generation, reason: reason)
        }
    }

    /// Fails a want whose candidates all said no, unless it was asked anew meanwhile.
    private func failed(_ cid: CID, generation: Int, reason: String?) {
        guard let want = wants[cid], want.generation == generation, want.asked == nil else { return }
        finish(cid, .failure(reason.map { .creditExhausted(cid, $0) } ?? .notFound(cid, asked: want.askedPeers.count)))
    }

    private func timedOut(_ cid: CID, _ generation: Int) {
        guard let want = wants[cid], want.generation == generation else { return }
        askNext(cid)
    }

    /// A candidate that cannot be dialled counts as DONT_HAVE at once, instead of after a timeout.
    private func unreachable(_ cid: CID, _ peer: PeerID, _ generation: Int) {
        guard let want = wants[cid], want.generation == generation, want.asked == peer else { return }
        askNext(cid)
    }

    /// Finishes a want; whoever was asked and did not deliver is told to cancel.
    private func finish(_ cid: CID, _ result: Result<Delivery, BitswapError>) {
        guard let want = wants.removeValue(forKey: cid) else { return }
        for continuation in want.waiters.values { continuation.resume(returning: result) }
        let deliverer = (try? result.get())?.peer
        cancel(cid, at: want.askedPeers.subtracting(deliverer.map { [$0] } ?? []))
    }

    private func cancel(_ cid: CID, at peers: Set<PeerID>) {
        let message = BitswapMessage(entries: [.init(cid: cid.bytes, cancel: true)]).bytes
        for peer in peers { send(message, to: peer, unreachable: nil) }
    }

    /// Sends through the outbox in the order sends were made (a want is never overtaken by its cancel).
    /// A peer not connected is dialled first; when that fails its queue is dropped and `unreachable` runs.
    private func send(_ message: [UInt8], to peer: PeerID, unreachable: (@Sendable (Bitswap) async -> Void)?) {
        let previous = sending[peer]?.task, outbox = self.outbox, swarm = self.swarm
        sendNumber += 1
        let number = sendNumber
        let task = Task {
            defer { Task { self.sent(peer, number) } }
            await previous?.value
            if !(await swarm.isConnected(peer)) {
                guard (try? await swarm.connect(to: peer)) != nil else {
                    await outbox.close(peer)
                    if let unreachable { Task { await unreachable(self) } }
                    return
                }
            }
            await outbox.send(message, to: peer)
        }
        sending[peer] = (number, task)
    }

    private func sent(_ peer: PeerID, _ number: Int) {
        if sending[peer]?.number == number { sending[peer] = nil }
    }

    /// A block arrived: wanted, it is stored and handed out; asked for recently (a want that moved on,
    /// failed or was cancelled, whose answer came late) or received already, it is dropped; anything else
    /// is a block nobody asked for — what a peer answering with the wrong block sends — and the sender is
    /// banned.
    private func arrived(_ cid: CID, _ data: [UInt8], from peer: PeerID) throws(WireError) {
        // The provider counted every block it sent: the blocks asked of it count here too, late ones included.
        // Once per ask: a peer sending a block again is not paid twice.
        if let meter, askedOf.remove(AskedBlock(cid: cid, peer: peer)) {
            let bytes = data.count
            Task { await meter.delivered(peer, bytes: bytes) }
        }
        guard wants[cid] != nil else {
            guard recent.contains(cid) || asked.contains(cid) else { throw .malformed("Bitswap block \(cid) that this node did not ask for") }
            counters.duplicateBlocks += 1
            return
        }
        counters.blocksReceived += 1
        counters.bytesReceived += data.count
        recent.insert(cid)
        do {
            try store.put(cid, data)
        } catch {
            finish(cid, .failure(.store("\(error)")))
            return
        }
        finish(cid, .success(Delivery(data: data, peer: peer)))
        nowHeld(cid)
    }

    /// Wants waiting for an answer (for tests).
    public var wantCount: Int { wants.count }
    /// Wants a peer holds with this node (for tests).
    public func wantsHeld(by peer: PeerID) -> Int { ledgers[peer]?.count ?? 0 }
}

public enum BitswapError: Error, Equatable, CustomStringConvertible {
    case notFound(CID, asked: Int)
    case store(String)
    case cancelled
    case deadline(CID)
    /// A private MiMei's block met by a reader without its capability.
    case hidden(CID)
    /// No candidate gave the block, and one of them stopped serving this node for its credit (the reason).
    case creditExhausted(CID, String)

    public var description: String {
        switch self {
        case .notFound(let cid, let asked): "no peer gave block \(cid) (\(asked) asked)"
        case .store(let why): why
        case .cancelled: "cancelled"
        case .deadline(let cid): "fetching \(cid) passed its deadline"
        case .hidden(let cid): "\(cid) is not held by this node"
        case .creditExhausted(let cid, let reason): "no peer gave block \(cid): \(reason)"
        }
    }
}

/// The last `capacity` CIDs received, so that a block arriving twice (asked of one peer, then of the next
/// after a timeout) is a duplicate rather than an offence.
typealias RecentCIDs = RecentSet<CID>

/// The last `capacity` elements inserted (the oldest forgotten first).
struct RecentSet<Element: Hashable> {
    let capacity: Int
    private var set: Set<Element> = []
    private var order: [Element] = []
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ element: Element) -> Bool { set.contains(element) }

    /// Forgets `element`; whether it was there. (Its place in `order` is reused when its turn comes.)
    mutating func remove(_ element: Element) -> Bool { set.remove(element) != nil }

    mutating func insert(_ element: Element) {
        guard set.insert(element).inserted else { return }
        if order.count < capacity {
            order.append(element)
        } else {
            set.remove(order[head])
            order[head] = element
            head = (head + 1) % capacity
        }
    }
}
