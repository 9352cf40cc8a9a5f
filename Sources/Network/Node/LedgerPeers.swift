import Foundation
import Ledger
import Logging

/// The ledger's own protocols over libp2p streams (specs/p2p.md §Ledger protocols):
///   /ledgerd/tx/1.0.0     transaction gossip: varint-prefixed signed transactions, then close
///   /ledgerd/block/1.0.0  block announcement: one CBOR {chain, height, hash}
///   /ledgerd/sync/1.0.0   block sync: request CBOR {chain, from, count}; answer CBOR status
///                         {chain, genesis, height, hash}, then up to `count` blocks, each varint-prefixed
/// Every block from a peer is fully verified by LedgerNode.importBlock before it is stored.
public actor LedgerPeers {
    public static let transactionProtocol = "/ledgerd/tx/1.0.0"
    public static let blockProtocol = "/ledgerd/block/1.0.0"
    public static let syncProtocol = "/ledgerd/sync/1.0.0"
    static let blocksPerRequest = 64
    static let maxBlockMessage = Block.encodedBytesMax

    let node: LedgerNode
    let swarm: Swarm
    let genesisHash: Digest
    let logger: Logger
    private var syncing = false
    private var resync = false

    public init(node: LedgerNode, swarm: Swarm, genesisHash: Digest, logger: Logger) {
        self.node = node
        self.swarm = swarm
        self.genesisHash = genesisHash
        self.logger = logger
    }

    public func start() async {
        let node = self.node
        await swarm.handle(Self.transactionProtocol) { stream in
            for _ in 0..<1024 {
                guard let bytes = try await stream.readMessageOrEnd(max: Transaction.encodedBytesMax) else { break }
                let signed: SignedTransaction
                do { signed = try SignedTransaction.decodeUntrusted(bytes) } catch { throw WireError.malformed("gossiped transaction: \(error)") }
                do { _ = try await node.submit(signed) } catch let rejection as Rejection {
                    // Duplicates are normal in gossip; a bad signature is the peer's fault.
                    if rejection.code == .badSignature { throw WireError.malformed("gossiped transaction: \(rejection)") }
                }
            }
            await stream.close()
        }
        await swarm.handle(Self.blockProtocol) { [weak self] stream in
            let bytes = try await stream.readMessage(max: 512)
            await stream.close()
            guard let announcement = try? CBORDecoder.decode(bytes), case .map(let fields) = announcement,
                  case .unsigned(let height)? = fields["height"] else { throw WireError.malformed("block announcement is not CBOR {chain, height, hash}") }
            if height > (await node.latest.height) { await self?.sync(from: stream.peer) }
        }
        await swarm.handle(Self.syncProtocol) { [weak self] stream in try await self?.serveSync(stream) }
        await node.observeTransactions { [weak self] signed in await self?.gossip(signed) }
        await node.observeBlocks { [weak self] block in await self?.announce(block) }
        await swarm.observeConnections { [weak self] peer, connected in
            if connected { await self?.sync(from: peer) }
        }
    }

    private var ledgerPeers: [PeerID] {
        get async {
            await swarm.connectedPeers.map(\.peer).filter { swarm.addressBook.entry($0)?.protocols.contains(Self.syncProtocol) ?? false }
        }
    }

    private func gossip(_ signed: SignedTransaction) async {
        let encoded = signed.encoded
        for peer in await ledgerPeers {
            Task {
                guard let stream = try? await swarm.openStream(to: peer, protocols: [Self.transactionProtocol]) else { return }
                try? await stream.writeMessage(encoded)
                await stream.close()
            }
        }
    }

    private func announce(_ block: Block) async {
        let message = CBOREncoder.encode(.map(["chain": .text(block.header.chain), "height": .unsigned(block.height), "hash": .bytes(block.hash.bytes)]))
        for peer in await ledgerPeers {
            Task {
                guard let stream = try? await swarm.openStream(to: peer, protocols: [Self.blockProtocol]) else { return }
                try? await stream.writeMessage(message)
                await stream.close()
            }
        }
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
                try await stream.writeMessage(block.encoded)
            }
        }
        await stream.close()
    }

    /// Catches up from `peer` while it is ahead; one sync at a time (a request arriving meanwhile runs after).
    public func sync(from peer: PeerID) async {
        logger.debug("sync requested", metadata: ["peer": "\(peer.short)", "busy": "\(syncing)"])
        guard !syncing else { resync = true; return }
        syncing = true
        defer { syncing = false }
        repeat {
            resync = false
            await syncOnce(from: peer)
        } while resync
    }

    private func syncOnce(from peer: PeerID) async {
        let chain = node.chainID
        while true {
            let from = await node.latest.height + 1
            do {
                let stream = try await swarm.openStream(to: peer, protocols: [Self.syncProtocol])
                try await stream.writeMessage(CBOREncoder.encode(.map(["chain": .text(chain), "from": .unsigned(from), "count": .unsigned(UInt64(Self.blocksPerRequest))])))
                guard let status = try? CBORDecoder.decode(try await stream.readMessage(max: 512)), case .map(let fields) = status,
                      case .text(let peerChain)? = fields["chain"], case .bytes(let peerGenesis)? = fields["genesis"],
                      case .unsigned(let peerHeight)? = fields["height"] else { throw WireError.malformed("sync status is not CBOR") }
                guard peerChain == chain, peerGenesis == genesisHash.bytes else {
                    logger.info("peer is on another chain; not syncing from it", metadata: ["peer": "\(peer)", "chain": "\(peerChain)"])
                    await stream.close()
                    return
                }
                guard peerHeight >= from else {
                    await stream.close()
                    await node.setSyncTarget(nil)
                    return
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
                let height = await node.latest.height
                logger.info("sync progress", metadata: ["peer": "\(peer.short)", "height": "\(height)", "target": "\(peerHeight)", "imported": "\(imported)"])
                if imported == 0 || height >= peerHeight { return }
            } catch let error as WireError where error != .closed {
                await swarm.ban(peer, reason: "\(error)")
                return
            } catch {
                logger.debug("sync failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                return
            }
        }
    }
}
