import Foundation
import Ledger
import Logging

/// The ledger over libp2p (specs/p2p.md §Ledger protocols):
///   gossipsub topic `ledgerd/<genesis hash>/tx`      signed transactions, one or a batch per message
///   gossipsub topic `ledgerd/<genesis hash>/blocks`  block announcements, CBOR {chain, height, hash}
///   /ledgerd/sync/1.0.0   block sync: request CBOR {chain, from, count}; answer CBOR status
///                         {chain, genesis, height, hash}, then up to `count` blocks, each varint-prefixed
/// Every block from a peer is fully verified by LedgerNode.importBlock before it is stored.
public actor LedgerPeers {
    public static let syncProtocol = "/ledgerd/sync/1.0.0"
    static let blocksPerRequest = 64
    static let maxBlockMessage = Block.encodedBytesMax
    /// Gossiped transactions remembered (SHA-256 of their signed bytes, with up to 8 senders each: at most
    /// about 16,384 × 350 bytes ≈ 6 MiB); one seen before is dropped unchecked.
    static let seenTransactionsMax = 16_384
    /// Announced or synced blocks remembered (by hash, with their senders), so none is announced back.
    static let seenBlocksMax = 1_024
    /// Peers waiting for their turn to be synced from (each connected peer at most once).
    static let syncQueueMax = 256
    /// A peer whose sync request ran out of time is not synced from again for this long (a peer that keeps
    /// announcing blocks it never serves would otherwise cost a deadline in every turn).
    static let syncRetryAfterTimeoutMillisMin = 60_000
    /// A peer whose gossiped transactions fail admission this many times more than they pass is spamming
    /// (validly signed transactions from unfunded keys, say): it is banned like a protocol violator.
    static let gossipScoreMin = -64
    /// A peer's score never climbs above this, so a long honest past buys little spam.
    static let gossipScoreMax = 64
    /// Scores kept, at most (of connected peers; a disconnected peer's score is forgotten).
    static let gossipScoresMax = 4_096
    /// Sync upload budget per peer: block bytes it may download per minute (token bucket, full at start).
    /// Past it, sync answers carry the status and no blocks until the budget refills.
    public static let syncUploadBytesPerMinuteMax = 256 << 20

    let node: LedgerNode
    let swarm: Swarm
    let genesisHash: Digest
    let logger: Logger
    private var syncing = false
    private var syncQueue: [PeerID] = []
    /// Peers whose last sync request timed out, and when (at most `syncQueueMax`, expired ones pruned).
    private var slowPeers: [PeerID: ContinuousClock.Instant] = [:]
    private var seenTransactions = SeenCache(capacity: LedgerPeers.seenTransactionsMax)
    private var seenBlocks = SeenCache(capacity: LedgerPeers.seenBlocksMax)
    private var gossipScores: [PeerID: Int] = [:]
    private var uploadBudgets: [PeerID: (bytes: Double, at: Double)] = [:]

    /// Gossipsub carries transactions and block announcements (a flood cost O(n²) messages).
    public let pubsub: Gossipsub
    public nonisolated var transactionTopic: String { "ledgerd/\(genesisHash.hex)/tx" }
    public nonisolated var blockTopic: String { "ledgerd/\(genesisHash.hex)/blocks" }

    /// The sync upload budget in force (`syncUploadBytesPerMinuteMax` unless a test lowers it).
    let syncUploadBytesPerMinute: Int

    public init(node: LedgerNode, swarm: Swarm, genesisHash: Digest, logger: Logger,
                syncUploadBytesPerMinute: Int = LedgerPeers.syncUploadBytesPerMinuteMax) {
        self.syncUploadBytesPerMinute = syncUploadBytesPerMinute
        self.node = node
        self.swarm = swarm
        self.genesisHash = genesisHash
        self.logger = logger
        pubsub = Gossipsub(swarm: swarm, logger: logger)
    }

    public func start() async {
        let node = self.node
        await pubsub.subscribe(transactionTopic) { [weak self] bytes, peer in await self?.validateTransactions(bytes, from: peer) ?? .ignore }
        await pubsub.subscribe(blockTopic) { [weak self] bytes, peer in await self?.validateAnnouncement(bytes, from: peer) ?? .ignore }
        await pubsub.start()
        await swarm.handle(Self.syncProtocol) { [weak self] stream in try await self?.serveSync(stream) }
        await node.observeTransactions { [weak self] signed in await self?.gossip(signed) }
        await node.observeBlocks { [weak self] block in await self?.announce(block) }
        await swarm.observeConnections { [weak self] peer, connected in
            if connected { await self?.sync(from: peer) } else { await self?.forget(peer) }
        }
    }

    /// A gossiped message of transactions (one, or a batch: `transactions(in:)`). It is never forwarded as
    /// it came (ignore): each transaction this node admits is published again in this node's own batches,
    /// so an honest node only ever passes on what it checked and admitted itself, and a hostile batch
    /// cannot travel on to make honest nodes score or ban each other. A transaction seen before (from
    /// anyone) is neither decoded, verified nor sent on again; one late, too far ahead, a duplicate or for a
    /// full mempool goes no further, and only a refusal by the rules scores the sender down. Undecodable
    /// data or a bad signature anywhere in the message bans the sender (reject), nothing of that message is
    /// admitted, and none of it is marked seen (an honest copy that comes later is taken).
    private func validateTransactions(_ bytes: [UInt8], from peer: PeerID) async -> Gossipsub.Validation {
        guard let items = Self.transactions(in: bytes) else { return .reject }
        // Seen, or being checked right now for another message (the actor is re-entered while signatures
        // are verified): not checked twice. If that check refuses its message, the item is not marked
        // seen, and a later copy is taken.
        let hashes = items.map { SHA256.hash($0) }
        let fresh = zip(items, hashes).filter { !seenTransactions.contains($0.1) && !checking.contains($0.1) }
        guard !fresh.isEmpty else { return .ignore }
        for (_, hash) in fresh { checking.insert(hash) }
        defer { for (_, hash) in fresh { checking.remove(hash) } }
        return await validate(fresh, from: peer)
    }

    /// Hashes of gossiped transactions being checked now (at most `batchCountMax` per message in flight).
    private var checking = Set<Digest>()

    private func validate(_ fresh: [([UInt8], Digest)], from peer: PeerID) async -> Gossipsub.Validation {
        // A full mempool takes nothing: nothing is verified for it, and nothing marked seen.
        guard await node.mempoolCount < Mempool.countMax else { return .ignore }
        var decoded: [SignedTransaction] = []
        for (item, _) in fresh {
            guard let signed = try? SignedTransaction.decodeUntrusted(item) else { return .reject }
            decoded.append(signed)
        }
        // Nonces before signatures: one behind the account's next was committed meanwhile (late), one more
        // than 64 ahead is dropped; both unverified. One a little ahead is reordering: it waits, parked,
        // until its predecessor is admitted (verified only when its parking place is free). In-batch
        // predecessors count.
        var expected = await node.nextNonces(for: Set(decoded.map(\.transaction.origin)))
        var inOrder: [SignedTransaction] = [], ahead: [SignedTransaction] = []
        for signed in decoded {
            let origin = signed.transaction.origin, nonce = signed.transaction.nonce, next = expected[origin] ?? 0
            if nonce == next {
                inOrder.append(signed)
                expected[origin] = next + 1
            } else if nonce > next && nonce - next <= UInt64(Self.parkedPerOriginMax) && parked[origin]?[nonce] == nil
                        && ahead.count < Self.parkedPerOriginMax {
                ahead.append(signed)
            }
        }
        // Verified together, in parallel: a forged copy parked at a victim's next nonce would otherwise
        // keep the real one out (the first parked for a nonce stays).
        guard await LedgerNode.signaturesAreValid(inOrder + ahead) else {
            await swarm.ban(peer, reason: "gossiped transaction: a signature does not verify")
            return .reject
        }
        // Decided, every one of them: seen from this peer from now on.
        for (_, hash) in fresh { seenTransactions.insert(hash, from: peer) }
        for signed in ahead { park(signed, from: peer) }
        var released: [(SignedTransaction, PeerID)] = []
        for (signed, rejection) in zip(inOrder, await node.submitVerified(inOrder)) {
            if let rejection {
                if rejection.code != .duplicate && rejection.code != .mempoolFull { await score(peer, admitted: false) }
                continue
            }
            await score(peer, admitted: true)
            if let next = unpark(origin: signed.transaction.origin, nonce: signed.transaction.nonce + 1) { released.append(next) }
        }
        // Parked successors, verified when they were parked: admitted in turn (and so published by this
        // node, as every admitted transaction is).
        while let (candidate, sender) = released.popLast() {
            do {
                _ = try await node.submit(candidate, signaturesValid: true)
                await score(sender, admitted: true)
                if let next = unpark(origin: candidate.transaction.origin, nonce: candidate.transaction.nonce + 1) { released.append(next) }
            } catch {
                if error.code != .duplicate && error.code != .mempoolFull { await score(sender, admitted: false) }
            }
        }
        return .ignore
    }

    /// A transaction message's data (specs/p2p.md §7): one signed transaction (a CBOR map), or a CBOR array
    /// of 2 to `batchCountMax` byte strings, each one signed transaction. Nil when it is neither.
    static func transactions(in bytes: [UInt8]) -> [[UInt8]]? {
        guard let first = bytes.first else { return nil }
        guard first >> 5 == 4 else { return bytes.count <= Transaction.encodedBytesMax ? [bytes] : nil }
        // The count from the array's head first, so a huge array of tiny items is not built to be refused.
        let count: Int
        switch first {
        case 0x80...0x97: count = Int(first & 0x1f)
        case 0x98 where bytes.count > 1: count = Int(bytes[1])
        case 0x99 where bytes.count > 2: count = Int(bytes[1]) << 8 | Int(bytes[2])
        default: return nil
        }
        guard bytes.count <= Self.batchBytesMax, (2...Self.batchCountMax).contains(count),
              case .array(let elements)? = try? CBORDecoder.decode(bytes) else { return nil }
        var items: [[UInt8]] = []
        items.reserveCapacity(elements.count)
        for element in elements {
            guard case .bytes(let item) = element, item.count <= Transaction.encodedBytesMax else { return nil }
            items.append(item)
        }
        return items
    }

    /// The data of a message carrying `items` (each a signed transaction's encoding): the transaction
    /// itself when alone, else the batch.
    static func message(of items: [[UInt8]]) -> [UInt8] {
        items.count == 1 ? items[0] : CBOREncoder.encode(.array(items.map { .bytes($0) }))
    }

    /// A block announcement: a block this node lacks is synced from the peer that announced it. It goes no
    /// further either way — an announcement proves nothing until the block is imported, and each node
    /// announces the blocks it imported or committed itself (so a made-up hash or height does not spread).
    private func validateAnnouncement(_ bytes: [UInt8], from peer: PeerID) async -> Gossipsub.Validation {
        guard bytes.count <= 512, let announcement = try? CBORDecoder.decode(bytes), case .map(let fields) = announcement,
              case .text(let chain)? = fields["chain"], case .unsigned(let height)? = fields["height"], case .bytes(let hash)? = fields["hash"],
              Digest(bytes: hash) != nil
        else { return .reject }
        guard chain.sameBytes(as: await node.latest.chain) else { return .reject }
        if height > (await node.latest.height) { await sync(from: peer) }
        return .ignore
    }

    /// Transactions parked until their predecessor arrives, by origin and nonce (at most `parkedMax` in all,
    /// 64 per origin; the oldest origin's go first when full).
    static let parkedMax = 4_096
    static let parkedPerOriginMax = 64
    private var parked: [ID: [UInt64: (SignedTransaction, PeerID)]] = [:]
    private var parkedCount = 0
    /// Accounts with parked transactions, in the order they were first parked.
    private var parkedOrigins: [ID] = []

    private func park(_ signed: SignedTransaction, from peer: PeerID) {
        let origin = signed.transaction.origin
        guard (parked[origin]?.count ?? 0) < Self.parkedPerOriginMax, parked[origin]?[signed.transaction.nonce] == nil else { return }
        // Full: the account parked longest ago gives way (FIFO; a flood cannot pick which honest ones go).
        while parkedCount >= Self.parkedMax, !parkedOrigins.isEmpty {
            let victim = parkedOrigins.removeFirst()
            parkedCount -= parked.removeValue(forKey: victim)?.count ?? 0
        }
        if parked[origin] == nil { parkedOrigins.append(origin) }
        parked[origin, default: [:]][signed.transaction.nonce] = (signed, peer)
        parkedCount += 1
    }

    private func unpark(origin: ID, nonce: UInt64) -> (SignedTransaction, PeerID)? {
        guard let found = parked[origin]?.removeValue(forKey: nonce) else { return nil }
        parkedCount -= 1
        if parked[origin]?.isEmpty == true {
            parked[origin] = nil
            parkedOrigins.removeAll { $0 == origin }
        }
        return found
    }

    /// Scores a gossiping peer: +1 per admitted transaction, −1 per one that failed admission; at
    /// `gossipScoreMin` it is banned.
    private func score(_ peer: PeerID, admitted: Bool) async {
        if gossipScores[peer] == nil && gossipScores.count >= Self.gossipScoresMax { gossipScores.removeAll() }  // never reached with 256 connections
        let score = min(Self.gossipScoreMax, (gossipScores[peer] ?? 0) + (admitted ? 1 : -1))
        gossipScores[peer] = score
        if score <= Self.gossipScoreMin {
            gossipScores[peer] = nil
            await swarm.ban(peer, reason: "gossiped \(-Self.gossipScoreMin) more transactions that failed admission than passed")
        }
    }

    /// The gossip score of a peer (0 when unknown), for tests and status.
    public func gossipScore(of peer: PeerID) -> Int { gossipScores[peer] ?? 0 }

    private func forget(_ peer: PeerID) async {
        gossipScores[peer] = nil
        uploadBudgets[peer] = nil
    }

    /// Takes `bytes` from `peer`'s sync upload budget; false when the budget is spent.
    private func spendUpload(_ bytes: Int, by peer: PeerID, now: Double = PeerGuard.now()) -> Bool {
        let capacity = Double(syncUploadBytesPerMinute)
        if uploadBudgets[peer] == nil && uploadBudgets.count >= Self.gossipScoresMax { uploadBudgets = uploadBudgets.filter { $0.value.at > now - 60 } }
        var budget = uploadBudgets[peer] ?? (capacity, now)
        budget.bytes = min(capacity, budget.bytes + (now - budget.at) * capacity / 60)
        budget.at = now
        defer { uploadBudgets[peer] = budget }
        guard budget.bytes >= Double(bytes) else { return false }
        budget.bytes -= Double(bytes)
        return true
    }

    private var ledgerPeers: [PeerID] {
        get async {
            await swarm.connectedPeers.map(\.peer).filter { swarm.addressBook.entry($0)?.protocols.contains(Self.syncProtocol) ?? false }
        }
    }

    /// Every transaction this node admits is published by it, once: those submitted here, and those that
    /// came by gossip (not to the peers they came from).
    private func gossip(_ signed: SignedTransaction) async {
        let encoded = signed.encoded
        let hash = SHA256.hash(encoded)
        let sources = seenTransactions.sources(of: hash)
        if sources.isEmpty { seenTransactions.insert(hash) }  // our own submissions too: they come back from peers
        enqueue(encoded, sources: Set(sources))
    }

    /// Own transactions are published together: those admitted within `batchDelayMillis` of the first go
    /// in one message (at most `batchCountMax` of them, `batchBytesMax` in all), so that a signature, a
    /// message ID and a frame per peer are paid per batch, not per transaction, while a transaction waits
    /// at most 2 % of a pulse. (Measured with four bookkeepers at saturation: 5 ms batches gave about
    /// 1,000 committed transfers per second, 20 ms about 1,400; latency moved by 0.02 pulses.)
    static let batchDelayMillis = 20
    static let batchCountMax = 1_024
    static let batchBytesMax = 512 * 1024
    private var outgoing: [[UInt8]] = []
    /// The peers every transaction of the batch came from: the batch is not sent to them.
    private var outgoingSources: Set<PeerID>?
    private var outgoingBytes = 0
    private var flushPending = false
    private var lastPublish: Task<Void, Never>?

    private func enqueue(_ encoded: [UInt8], sources: Set<PeerID> = []) {
        if outgoingBytes + encoded.count + 8 > Self.batchBytesMax { flush() }
        outgoing.append(encoded)
        outgoingSources = outgoingSources.map { $0.intersection(sources) } ?? sources
        outgoingBytes += encoded.count + 8  // the byte string's head, at most 3 bytes, and the array's: generously
        if outgoing.count >= Self.batchCountMax {
            flush()
        } else if !flushPending {
            flushPending = true
            Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(Self.batchDelayMillis))
                await self?.flush()
            }
        }
    }

    private func flush() {
        flushPending = false
        guard !outgoing.isEmpty else { return }
        let data = Self.message(of: outgoing)
        let excluded = outgoingSources ?? []
        outgoing = []
        outgoingSources = nil
        outgoingBytes = 0
        // Published in order (one batch after the other), so that peers receive an account's nonces in turn.
        let pubsub = self.pubsub, topic = transactionTopic, previous = lastPublish
        lastPublish = Task {
            await previous?.value
            await pubsub.publish(topic, data, excluding: excluded)
        }
    }

    /// After a block: parked transactions whose predecessor it committed are admitted now.
    private func releaseParked(after block: Block) async {
        for origin in Set(block.transactions.map(\.transaction.origin)) where parked[origin] != nil {
            var next = unpark(origin: origin, nonce: await node.nextNonce(for: origin))
            while let (candidate, _) = next {
                next = nil
                if (try? await node.submit(candidate, signaturesValid: true)) != nil {  // verified before it was parked
                    // Admitted now, it is published as every admitted transaction is.
                    next = unpark(origin: origin, nonce: candidate.transaction.nonce + 1)
                }
            }
        }
    }

    /// Every block this node commits or imports is announced to its mesh, once: announcements are not
    /// forwarded, so each hop is made by a node that holds the block.
    private func announce(_ block: Block) async {
        await releaseParked(after: block)
        guard seenBlocks.insert(block.hash) else { return }
        let message = CBOREncoder.encode(.map(["chain": .text(block.header.chain), "height": .unsigned(block.height), "hash": .bytes(block.hash.bytes)]))
        await pubsub.publish(blockTopic, message, flood: false)
    }

    private nonisolated func status() async -> [UInt8] {
        let latest = await node.latest
        return CBOREncoder.encode(.map(["chain": .text(latest.chain), "genesis": .bytes(genesisHash.bytes), "height": .unsigned(latest.height), "hash": .bytes(latest.hash.bytes)]))
    }

    private nonisolated func serveSync(_ stream: P2PStream) async throws {
        let bytes = try await stream.readMessage(max: 512)
        guard let request = try? CBORDecoder.decode(bytes), case .map(let fields) = request, case .unsigned(let from)? = fields["from"],
              case .unsigned(let count)? = fields["count"] else { throw WireError.malformed("sync request is not CBOR {chain, from, count}") }
        try await stream.writeMessage(await status())
        let latest = await node.latest.height
        let last = min(latest, from &+ min(count, UInt64(Self.blocksPerRequest)) &- 1)
        if from >= 1 && from <= last {
            for height in from...last {
                guard let block = try node.store.block(at: height) else { break }
                let encoded = block.encoded
                guard await spendUpload(encoded.count, by: stream.peer) else {
                    logger.debug("sync upload budget spent", metadata: ["peer": "\(stream.peer.short)"])
                    break
                }
                try await stream.writeMessage(encoded)
            }
        }
        await stream.close()
    }

    /// Catches up from `peer` while it is ahead. One sync runs at a time; peers asked for meanwhile wait in
    /// a queue (each once) and are synced from in turn, so a peer that stops answering costs one request
    /// deadline and the next peer that is ahead takes over.
    public func sync(from peer: PeerID) async {
        logger.debug("sync requested", metadata: ["peer": "\(peer.short)", "busy": "\(syncing)"])
        if let since = slowPeers[peer] {
            guard ContinuousClock.now - since > .milliseconds(Self.syncRetryAfterTimeoutMillisMin) else { return }
            slowPeers[peer] = nil
        }
        if !syncQueue.contains(peer) {
            if syncQueue.count >= Self.syncQueueMax { syncQueue.removeFirst() }
            syncQueue.append(peer)
        }
        guard !syncing else { return }
        syncing = true
        defer { syncing = false }
        while !syncQueue.isEmpty {
            let next = syncQueue.removeFirst()
            await syncOnce(from: next)
        }
    }

    private enum SyncAnswer {
        case otherChain(String)
        case upToDate
        case imported(count: Int, peerHeight: UInt64)
    }

    private func syncOnce(from peer: PeerID) async {
        let chain = node.chainID
        while true {
            let from = await node.latest.height + 1
            if slowPeers[peer] != nil { return }  // timed out while it was queued again
            let stream: P2PStream
            do { stream = try await swarm.openStream(to: peer, protocols: [Self.syncProtocol]) } catch {
                // Not a violation on this stream: a failed dial or negotiation is the swarm's to judge.
                logger.info("could not open a sync stream; going on with the next peer", metadata: ["peer": "\(peer.short)", "error": "\(error)"])
                return
            }
            do {
                let answer = try await withDeadline(millis: swarm.config.deadlines.syncRequestMillis, "sync request to \(peer.short)",
                                                    expire: { await stream.reset() }) {
                    try await request(stream, chain: chain, from: from)
                }
                switch answer {
                case .otherChain(let peerChain):
                    logger.info("peer is on another chain; not syncing from it", metadata: ["peer": "\(peer)", "chain": "\(peerChain)"])
                    return
                case .upToDate:
                    await node.setSyncTarget(nil)
                    return
                case .imported(let imported, let peerHeight):
                    let height = await node.latest.height
                    logger.info("sync progress", metadata: ["peer": "\(peer.short)", "height": "\(height)", "target": "\(peerHeight)", "imported": "\(imported)"])
                    if imported == 0 || height >= peerHeight { return }
                }
            } catch let error as WireError where error != .closed {
                await swarm.ban(peer, reason: "\(error)")
                return
            } catch P2PError.timeout(let what) {
                if slowPeers.count >= Self.syncQueueMax {
                    slowPeers = slowPeers.filter { ContinuousClock.now - $0.value <= .milliseconds(Self.syncRetryAfterTimeoutMillisMin) }
                    if slowPeers.count >= Self.syncQueueMax { slowPeers.removeAll() }
                }
                slowPeers[peer] = .now
                logger.info("sync peer too slow; going on with the next", metadata: ["peer": "\(peer.short)", "error": "\(what)"])
                return
            } catch {
                logger.info("sync from a peer failed; going on with the next", metadata: ["peer": "\(peer.short)", "error": "\(error)"])
                return
            }
        }
    }

    /// One sync request on `stream`: the status, then the blocks, each imported as it arrives.
    private func request(_ stream: P2PStream, chain: String, from: UInt64) async throws -> SyncAnswer {
        try await stream.writeMessage(CBOREncoder.encode(.map(["chain": .text(chain), "from": .unsigned(from), "count": .unsigned(UInt64(Self.blocksPerRequest))])))
        let statusBytes = try await stream.readMessage(max: 512)  // a peer that hangs up is left, not banned
        guard let status = try? CBORDecoder.decode(statusBytes), case .map(let fields) = status,
              case .text(let peerChain)? = fields["chain"], case .bytes(let peerGenesis)? = fields["genesis"],
              case .unsigned(let peerHeight)? = fields["height"] else { throw WireError.malformed("sync status is not CBOR") }
        guard peerChain == chain, peerGenesis == genesisHash.bytes else {
            await stream.close()
            return .otherChain(peerChain)
        }
        guard peerHeight >= from else {
            await stream.close()
            return .upToDate
        }
        await node.setSyncTarget(peerHeight)
        var imported = 0
        while let bytes = try await stream.readMessageOrEnd(max: Self.maxBlockMessage) {
            let block: Block
            do { block = try Block.decodeUntrusted(bytes) } catch { throw WireError.malformed("synced block: \(error)") }
            do { if try await node.importBlock(block) { imported += 1 } } catch {
                throw WireError.malformed("synced block \(block.height) is invalid: \(error)")
            }
        }
        await stream.close()
        return .imported(count: imported, peerHeight: peerHeight)
    }
}
