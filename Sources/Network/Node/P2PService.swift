import Foundation
import Storage
import Ledger
import Logging
import ServiceLifecycle

/// The node's place in the peer-to-peer network: the libp2p swarm, the DHT and the ledger protocols.
public struct P2PNetwork: Sendable {
    public let swarm: Swarm
    public let dht: DHT
    public let peers: LedgerPeers
    public let consensus: ConsensusPeers?
    public let bitswap: Bitswap?
    public let follower: MiMeiFollower?
    public let exchange: MiMeiExchange?
    /// The durable usage ledger the swarm's counters are flushed into.
    public let usage: UsageRecorder?
    /// Bills Bitswap between ledger nodes (nil: unmetered).
    public let metering: Metering?
    /// Pins and proves this node's storage contracts (nil: none kept).
    public let storage: StorageKeeper?
    /// Announces this node's gateway URLs in the DHT (nil: not announced).
    public let gateway: GatewayAnnouncer?
    /// Circuit relay under forwarding contracts: the relay side, this node's own reservations, and the billing.
    public let relay: CircuitRelay?
    public let relayClient: RelayClient?
    public let forwarding: ForwardMetering?

    public init(swarm: Swarm, dht: DHT, peers: LedgerPeers, consensus: ConsensusPeers? = nil, bitswap: Bitswap? = nil, follower: MiMeiFollower? = nil,
                exchange: MiMeiExchange? = nil, usage: UsageRecorder? = nil, metering: Metering? = nil, storage: StorageKeeper? = nil,
                gateway: GatewayAnnouncer? = nil, relay: CircuitRelay? = nil, relayClient: RelayClient? = nil, forwarding: ForwardMetering? = nil) {
        self.swarm = swarm
        self.dht = dht
        self.peers = peers
        self.consensus = consensus
        self.bitswap = bitswap
        self.follower = follower
        self.exchange = exchange
        self.usage = usage
        self.metering = metering
        self.storage = storage
        self.gateway = gateway
        self.relay = relay
        self.relayClient = relayClient
        self.forwarding = forwarding
    }
}

/// Runs the network for the daemon's lifetime: listen, bootstrap, then every minute save the address
/// book and routing table, re-dial the bootstrap peers if alone, and republish provider records when due.
public struct P2PService: Service {
    let network: P2PNetwork
    let bootstrap: [Multiaddr]
    let logger: Logger
    let onListening: @Sendable ([Multiaddr]) -> Void

    public init(network: P2PNetwork, bootstrap: [Multiaddr], logger: Logger, onListening: @escaping @Sendable ([Multiaddr]) -> Void) {
        self.network = network
        self.bootstrap = bootstrap
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let swarm = network.swarm
        await swarm.registerCoreProtocols()
        await network.dht.start()
        await network.peers.start()
        await network.consensus?.start()
        await network.bitswap?.start()
        await network.exchange?.start()
        await network.metering?.start()
        await network.forwarding?.start()
        await network.relay?.start()
        do { try await swarm.listen() } catch {
            throw P2PError.listen("\(swarm.config.listenHost):\(swarm.config.listenPort): \(error); pick another with --p2p host:port")
        }
        // Listen addresses first (what local tools dial), then the advertised ones.
        let listen = await swarm.listenAddresses, advertised = await swarm.addresses
        onListening(listen + advertised.filter { !listen.contains($0) })
        await network.relayClient?.start()
        // Known peers from the last run first, then the configured bootstrap peers.
        for peer in await network.dht.routingTable.prefix(20) { try? await swarm.connect(to: peer) }
        if !bootstrap.isEmpty { _ = await network.dht.bootstrap(bootstrap) }
        var lastRepublish = Date(), lastSave = Date(), lastRefresh = Date()
        var announced: Set<CID> = []
        var lastFollow = Date.distantPast, lastRollUp = Date.distantPast
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            recordUsage(rollUp: Date().timeIntervalSince(lastRollUp) > Double(UsageLedger.hour))
            if Date().timeIntervalSince(lastRollUp) > Double(UsageLedger.hour) { lastRollUp = Date() }
            await announcePins(&announced)
            await network.metering?.round()
            await network.forwarding?.round()
            await network.gateway?.announceIfDue()
            // Off the loop: fetching a contract's content may take a while.
            if let storage = network.storage { Task { await storage.round() } }
            if let follower = network.follower, Date().timeIntervalSince(lastFollow) >= Double(MiMeiFollower.intervalSeconds) {
                lastFollow = Date()
                await follower.check()
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) } } catch { break }
            await keepConnected()
            if Date().timeIntervalSince(lastSave) > 60 {
                lastSave = Date()
                swarm.addressBook.save()
                await network.dht.save()
            }
            // Refresh the routing table every 10 minutes (libp2p's interval): our own ID and a random key.
            if Date().timeIntervalSince(lastRefresh) > 600 {
                lastRefresh = Date()
                _ = await network.dht.closestPeers(to: swarm.peerID.bytes)
                _ = await network.dht.closestPeers(to: (0..<32).map { _ in UInt8.random(in: 0...255) })
            }
            if Date().timeIntervalSince(lastRepublish) > DHT.republishSeconds {
                lastRepublish = Date()
                await network.dht.republish()
            }
        }
        await network.dht.save()
        await network.relayClient?.stop()
        await swarm.stop()
        recordUsage(rollUp: false)
        await network.metering?.persist()
    }

    /// The counters' bytes into the usage ledger (every 5 s round, and at the end); old hours into days.
    func recordUsage(rollUp: Bool) {
        guard let usage = network.usage else { return }
        do {
            try usage.flush()
            if rollUp { try usage.ledger.rollUp(now: Int64(Date().timeIntervalSince1970)) }
        } catch { logger.warning("could not record usage", metadata: ["error": "\(error)"]) }
    }

    /// Announces every newly pinned root in the DHT (Kubo's "pinned" reprovider strategy: roots, not every
    /// block), checked every 5 s because `ledgerctl ipfs add` writes the store directly; the DHT keeps
    /// them and republishes them with the rest.
    func announcePins(_ announced: inout Set<CID>) async {
        guard let store = network.bitswap?.store, let pins = try? store.pins() else { return }
        // At most 32 a round, so that a store with many pins does not hold up the rest of this loop.
        let fresh = pins.map(\.cid).filter { !announced.contains($0) }.prefix(32)
        for cid in fresh {
            // A private MiMei's root is never announced: the DHT would tell anyone its CID and who holds it.
            guard (try? store.privateOwners(cid))?.isEmpty == true else {
                announced.insert(cid)
                continue
            }
            // Told to nobody (no peers yet): tried again next round.
            if await network.dht.provide(ContentFetcher.providerKey(cid)) > 0 { announced.insert(cid) }
        }
    }

    /// Below `targetPeers` connections, dial peers from the routing table (so a dead peer is routed
    /// around), and the bootstrap peers if nothing else is left.
    static let targetPeers = 8

    func keepConnected() async {
        let swarm = network.swarm
        var count = await swarm.connectedPeers.count
        guard count < Self.targetPeers else { return }
        for peer in await network.dht.routingTable where count < Self.targetPeers {
            guard !(await swarm.isConnected(peer)), swarm.peerGuard.banReason(peer) == nil else { continue }
            if (try? await swarm.connect(to: peer)) != nil { count += 1 } else { await network.dht.unreachable(peer) }
        }
        if count == 0 && !bootstrap.isEmpty { _ = await network.dht.bootstrap(bootstrap) }
    }
}
