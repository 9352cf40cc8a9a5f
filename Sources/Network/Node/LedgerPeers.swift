import Foundation
import Ledger
import Logging

/// The ledger over libp2p (specs/p2p.md §Ledger protocols):
///   gossipsub topic `ledgerd/<genesis hash>/tx`      signed transactions, one per message
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
        await pubsub.subscribe(transactionTopic) { [weak self] bytes, peer in await self?.validateTransaction(bytes, from: peer) ?? .ignore }
        await pubsub.subscribe(blockTopic) { [weak self] bytes, peer in await self?.validateAnnouncement(bytes, from: peer) ?? .ignore }
        await pubsub.start()
        await swarm.handle(Self.syncProtocol) { [weak self] stream in try await self?.serveSync(stream) }
        await node.observeTransactions { [weak self] signed in await self?.gossip(signed) }
        await node.observeBlocks { [weak self] block in await self?.announce(block) }
        await swarm.observeConnections { [weak self] peer, connected in
            if connected { await self?.sync(from: peer) } else { await self?.forget(peer) }
        }
    }

    /// A gossiped transaction: admitted and forwarded (accept); seen before, late, parked until its
    /// predecessor, a duplicate or for a full mempool, or refused by the rules, it goes no further (ignore),
    /// and only a refusal by the rules scores the sender down (an honest relay can forward a transaction
    /// that a block made unpayable meanwhile, so it is not a gossipsub "invalid" message); a bad signature
    /// bans the sender (reject).
    private func validateTransaction(_ bytes: [UInt8], from peer: PeerID) async -> Gossipsub.Validation {
        guard bytes.count <= Transaction.encodedBytesMax else { return .reject }
        // Seen before (from anyone): neither decoded, verified nor relayed again.
        guard firstSight(of: bytes, from: peer) else { return .ignore }
        guard let signed = try? SignedTransaction.decodeUntrusted(bytes) else { return .reject }
        // A nonce ahead of the account's next is reordering (the earlier one has not arrived yet): it
        // waits, parked and unverified, until its predecessor is admitted. A nonce behind is late.
        let expected = await node.nextNonce(for: signed.transaction.origin)
        if signed.transaction.nonce > expected {
            // Only a little ahead, and only with valid signatures: a forged copy parked at a victim's next
            // nonce would otherwise keep the real one out (the first parked for a nonce stays).
            guard signed.transaction.nonce - expected <= UInt64(Self.parkedPerOriginMax), signed.signaturesAreValid() else {
                if signed.transaction.nonce - expected <= UInt64(Self.parkedPerOriginMax) {
                    await swarm.ban(peer, reason: "gossiped transaction: a signature does not verify")
                    return .reject
                }
                return .ignore
            }
            park(signed, from: peer)
            return .ignore
        }
        guard signed.transaction.nonce == expected else { return .ignore }
        var verdict = Gossipsub.Validation.ignore
        var next: (SignedTransaction, PeerID)? = (signed, peer)
        while let (candidate, sender) = next {
            next = nil
            do {
                // A parked one had its signatures verified before it was parked: not again.
                if candidate.id == signed.id { _ = try await node.admit(candidate) } else { _ = try await node.submit(candidate, signaturesValid: true) }
                await score(sender, admitted: true)
                if candidate.id == signed.id { verdict = .accept } else { await pubsub.publish(transactionTopic, candidate.encoded) }
                next = unpark(origin: candidate.transaction.origin, nonce: candidate.transaction.nonce + 1)
            } catch {
                if error.code == .badSignature {
                    await swarm.ban(sender, reason: "gossiped transaction: \(error)")
                    if candidate.id == signed.id { verdict = .reject }
                } else if error.code != .duplicate && error.code != .mempoolFull {
                    await score(sender, admitted: false)
                }
            }
        }
        return verdict
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

    private func park(_ signed: SignedTransaction, from peer: PeerID) {
        let origin = signed.transaction.origin
        guard (parked[origin]?.count ?? 0) < Self.parkedPerOriginMax, parked[origin]?[signed.transaction.nonce] == nil else { return }
        if parkedCount >= Self.parkedMax, let (victim, held) = parked.first {
            parked[victim] = nil
            parkedCount -= held.count
        }
        parked[origin, default: [:]][signed.transaction.nonce] = (signed, peer)
        parkedCount += 1
    }

    private func unpark(origin: ID, nonce: UInt64) -> (SignedTransaction, PeerID)? {
        guard let found = parked[origin]?.removeValue(forKey: nonce) else { return nil }
        parkedCount -= 1
        if parked[origin]?.isEmpty == true { parked[origin] = nil }
        return found
    }

    /// Records a gossiped transaction's bytes as seen from `peer`; true the first time.
    private func firstSight(of bytes: [UInt8], from peer: PeerID) -> Bool {
        seenTransactions.insert(SHA256.hash(bytes), from: peer)
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

    /// This node's own transactions (submitted here) are published; one that came by gossip was forwarded
    /// by gossipsub already.
    private func gossip(_ signed: SignedTransaction) async {
        let encoded = signed.encoded
        let hash = SHA256.hash(encoded)
        guard seenTransactions.sources(of: hash).isEmpty else { return }
        seenTransactions.insert(hash)  // our own submissions too: they come back from peers
        await pubsub.publish(transactionTopic, encoded)
    }

    /// After a block: parked transactions whose predecessor it committed are admitted now.
    private func releaseParked(after block: Block) async {
        for origin in Set(block.transactions.map(\.transaction.origin)) where parked[origin] != nil {
            var next = unpark(origin: origin, nonce: await node.nextNonce(for: origin))
            while let (candidate, _) = next {
                next = nil
                if (try? await node.submit(candidate, signaturesValid: true)) != nil {  // verified before it was parked
                    // Parked, it was not forwarded; admitted now, it goes on as this node's own.
                    await pubsub.publish(transactionTopic, candidate.encoded)
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
