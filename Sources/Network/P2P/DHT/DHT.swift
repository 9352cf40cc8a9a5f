import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers

/// The Kademlia DHT over libp2p's `/ipfs/kad/1.0.0` (specs/p2p.md §DHT): serves FIND_NODE, GET_PROVIDERS,
/// ADD_PROVIDER, GET_VALUE, PUT_VALUE and PING, and runs iterative lookups against other peers. The
/// routing table fills from identified peers that speak kad and is saved in the data directory.
public actor DHT {
    public static let protocolID = "/ipfs/kad/1.0.0"

    public nonisolated let swarm: Swarm
    private let logger: Logger
    private var table: RoutingTable
    private var providers: ProviderStore
    private var values: [String: DHTRecord] = [:]
    private var provided: Set<[UInt8]> = []
    private let tablePath: String?
    static let maxValues = 100_000
    /// Record bytes held for others, at most (64 MiB).
    static let maxValueBytes = 64 << 20
    private var valueBytes = 0
    /// Provider records are republished this often (libp2p: 22 h, below the 48 h expiry).
    public static let republishSeconds: Double = 22 * 3600
    /// Answers are metered (specs/credit.md §DHT answers): each is worth `unitsPerAnswer` bandwidth units.
    private var meter: (meter: any UsageMeter, unitsPerAnswer: Int)?

    /// `providerTTL`: how long provider records given to this node live (48 h; tests shorten it).
    public init(swarm: Swarm, tablePath: String?, providerTTL: Double = ProviderStore.defaultTTL, logger: Logger = .quiet("ledgerd.dht")) {
        self.swarm = swarm
        providers = ProviderStore(ttl: providerTTL)
        self.logger = logger
        self.tablePath = tablePath
        table = RoutingTable(local: swarm.peerID)
    }

    /// Registers the protocol, restores the saved routing table and follows connections.
    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
        if let tablePath, let data = FileManager.default.contents(atPath: tablePath),
           let saved = try? JSONDecoder().decode([String].self, from: data) {
            for peer in saved.compactMap(PeerID.init) { table.add(peer) }
        }
        await swarm.observeConnections { [weak self] peer, connected in
            guard let self, connected else { return }
            if swarm.addressBook.entry(peer)?.protocols.contains(DHT.protocolID) == true { await self.add(peer) }
        }
    }

    public func save() {
        guard let tablePath else { return }
        if let data = try? JSONEncoder().encode(table.peers.map(\.description)) {
            try? data.write(to: URL(fileURLWithPath: tablePath), options: .atomic)
        }
    }

    /// Bills the answers this node gives and counts those it gets, each at `unitsPerAnswer` (the chain's
    /// `dhtQuery` coefficient).
    public func meter(with meter: any UsageMeter, unitsPerAnswer: UInt64) {
        self.meter = (meter, Int(clamping: unitsPerAnswer))
    }

    /// The metering of a query of `kind`: nil for PING and ADD_PROVIDER, which cost nothing and have no answer worth billing.
    private func metering(_ kind: KadMessage.Kind) -> (meter: any UsageMeter, unitsPerAnswer: Int)? {
        guard let meter, kind != .ping, kind != .addProvider else { return nil }
        return meter
    }

    public func add(_ peer: PeerID) { table.add(peer) }
    public var routingTable: [PeerID] { table.peers }

    // MARK: - Serving

    private nonisolated func serve(_ stream: P2PStream) async throws {
        // A stream may carry many requests; each answered in turn until the peer closes it.
        for _ in 0..<256 {
            guard let bytes = try await stream.readMessageOrEnd(max: KadMessage.maxSize) else { break }
            let request = try KadMessage(bytes: bytes)
            // A peer past its credit is refused the query (the stream resets; no ban): service stops.
            let metered = await metering(request.kind)
            if let metered, !(await metered.meter.admit(stream.peer, bytes: metered.unitsPerAnswer)) {
                throw P2PError.limit("credit exhausted: this node answers no more DHT queries from \(stream.peer.short)")
            }
            do {
                if let response = try await answer(request, from: stream.peer) {
                    try await stream.writeMessage(response.bytes)
                } else if let metered {
                    await metered.meter.undelivered(stream.peer, bytes: metered.unitsPerAnswer)
                }
            } catch {
                if let metered { await metered.meter.undelivered(stream.peer, bytes: metered.unitsPerAnswer) }
                throw error
            }
        }
        await stream.close()
    }

    /// A WireError bans the sender; any other error only resets the stream.
    func answer(_ request: KadMessage, from peer: PeerID) throws -> KadMessage? {
        let now = PeerGuard.now()
        table.add(peer)
        switch request.kind {
        case .ping:
            return KadMessage(kind: .ping)
        case .findNode:
            return KadMessage(kind: .findNode, key: request.key, closer: closerPeers(to: request.key, excluding: peer))
        case .getProviders:
            let found = providers.providers(of: request.key, now: now).map { describe($0) }
            return KadMessage(kind: .getProviders, key: request.key, closer: closerPeers(to: request.key, excluding: peer), providers: found)
        case .addProvider:
            // Only the sender may announce itself (libp2p's rule); addresses it gives go to the address book.
            for provider in request.providers where provider.id == peer {
                providers.add(key: request.key, provider: peer, now: now)
                swarm.addressBook.add(peer, addresses: provider.addresses)
            }
            return nil
        case .getValue:
            let key = String(decoding: request.key, as: UTF8.self)
            let record = values[key].map { KadMessage.Record(key: request.key, value: $0.encoded) }
            return KadMessage(kind: .getValue, key: request.key, record: record, closer: closerPeers(to: request.key, excluding: peer))
        case .putValue:
            guard let record = request.record else { throw WireError.malformed("PUT_VALUE without a record") }
            let key = String(decoding: request.key, as: UTF8.self)
            // Other libp2p networks' records (/pk, /ipns, …) are not ours to hold: refused, but not an offence.
            guard DHTRecord.isValidKey(key) else { throw P2PError.protocolNotSupported("records under \(key.prefix(40))") }
            do {
                try store(DHTRecord(encoded: record.value, expectedKey: key))
            } catch {
                throw WireError.malformed("PUT_VALUE rejected: \(error)")
            }
            return request
        }
    }

    private func closerPeers(to key: [UInt8], excluding peer: PeerID) -> [KadMessage.Peer] {
        table.closest(to: KadKey(hashing: key), count: RoutingTable.bucketSize + 1).filter { $0 != peer }.prefix(RoutingTable.bucketSize).map { describe($0) }
    }

    private func describe(_ peer: PeerID) -> KadMessage.Peer {
        KadMessage.Peer(id: peer, addresses: swarm.addressBook.addresses(of: peer))
    }

    /// Keeps a record if it is valid and newer than the one held.
    func store(_ record: DHTRecord) throws(DHTRecordError) {
        guard !record.expired(atMillis: Self.nowMillis()) else { return }
        if let existing = values[record.key], existing.seq >= record.seq, !existing.expired(atMillis: Self.nowMillis()) { return }
        let size = record.encoded.count
        let replaced = values[record.key]?.encoded.count ?? 0
        guard values.count < Self.maxValues || replaced > 0, valueBytes - replaced + size <= Self.maxValueBytes else { return }
        valueBytes += size - replaced
        values[record.key] = record
    }

    // MARK: - Client

    /// Sends one request on a new stream and reads the answer (nil for ADD_PROVIDER, which has none).
    nonisolated func request(_ message: KadMessage, to peer: PeerID) async throws -> KadMessage? {
        let stream = try await swarm.openStream(to: peer, protocols: [Self.protocolID])
        let bytes = try await withDeadline(millis: swarm.config.deadlines.dhtQueryMillis, "kad-dht \(message.kind) to \(peer.short)",
                                           expire: { await stream.reset() }) { () -> [UInt8]? in
            try await stream.writeMessage(message.bytes)
            guard message.kind != .addProvider else { return nil }
            return try await stream.readMessage(max: KadMessage.maxSize)
        }
        await stream.close()
        guard let bytes else { return nil }
        let answer = try KadMessage(bytes: bytes)
        // Each answer this node asked for and got counts toward the receipts it signs for that peer, but
        // only an answer to the question asked: a peer paid per answer gains nothing by sending others.
        if let metered = await metering(message.kind), answer.kind == message.kind, answer.key == message.key {
            await metered.meter.delivered(peer, bytes: metered.unitsPerAnswer)
        }
        return answer
    }

    private func learn(_ peers: [KadMessage.Peer]) -> [PeerID] {
        for peer in peers where !peer.addresses.isEmpty { swarm.addressBook.add(peer.id, addresses: peer.addresses, from: .others) }
        return peers.map(\.id).filter { $0 != swarm.peerID && swarm.peerGuard.banReason($0) == nil }
    }

    private func failed(_ peer: PeerID) { table.failed(peer) }

    /// A peer that could not be dialed: two strikes and it leaves the routing table.
    public func unreachable(_ peer: PeerID) { table.failed(peer) }

    /// An iterative lookup that sends `make(key)` to each peer; `inspect` sees each answer and may end the lookup.
    private func lookup(key: [UInt8], kind: KadMessage.Kind, inspect: @escaping @Sendable (PeerID, KadMessage) async -> Bool = { _, _ in false }) async -> KademliaLookup.Result {
        let start = table.closest(to: KadKey(hashing: key), count: RoutingTable.bucketSize)
        let done = DoneFlag()
        // The whole lookup has a deadline too: past it, peers not yet asked count as not answering, so the
        // lookup ends once the queries in flight (each bounded by its own deadline) are done.
        let ends = ContinuousClock.now + .milliseconds(swarm.config.deadlines.dhtLookupMillis)
        return await KademliaLookup.run(target: KadKey(hashing: key), start: start, query: { [weak self] peer in
            guard let self, ContinuousClock.now < ends else { return nil }
            do {
                guard let answer = try await self.request(KadMessage(kind: kind, key: key), to: peer) else { return [] }
                if await inspect(peer, answer) { done.set() }
                await self.add(peer)
                return await self.learn(answer.closer)
            } catch {
                await self.failed(peer)
                return nil
            }
        }, done: { _, _ in done.isSet })
    }

    /// The closest peers to a key, by asking the network.
    public func closestPeers(to key: [UInt8]) async -> KademliaLookup.Result { await lookup(key: key, kind: .findNode) }

    /// Finds a peer's addresses: connected or in the address book, or by a FIND_NODE lookup.
    public func findPeer(_ peer: PeerID) async -> (addresses: [Multiaddr], hops: Int)? {
        if await swarm.isConnected(peer) { return (swarm.addressBook.addresses(of: peer), 0) }
        let result = await lookup(key: peer.bytes, kind: .findNode) { _, answer in answer.closer.contains { $0.id == peer && !$0.addresses.isEmpty } }
        let addresses = swarm.addressBook.addresses(of: peer)
        return addresses.isEmpty ? nil : (addresses, result.hops)
    }

    /// Announces this node as a provider of `key` to the closest peers (and keeps it to republish).
    @discardableResult
    public func provide(_ key: [UInt8]) async -> Int {
        provided.insert(key)
        providers.add(key: key, provider: swarm.peerID, now: PeerGuard.now())
        let closest = await lookup(key: key, kind: .findNode).closest
        let me = KadMessage.Peer(id: swarm.peerID, addresses: await swarm.addresses.map(\.transport))
        let message = KadMessage(kind: .addProvider, key: key, providers: [me])
        let answered = await askAll(closest, message)
        for peer in closest where !answered.contains(peer) { failed(peer) }
        return answered.count
    }

    /// Sends `message` to every peer in parallel (each bounded by the query deadline); returns those that answered.
    private nonisolated func askAll(_ peers: [PeerID], _ message: KadMessage) async -> Set<PeerID> {
        await withTaskGroup(of: PeerID?.self) { group in
            for peer in peers {
                group.addTask {
                    do {
                        // ADD_PROVIDER has no answer: delivered is done. Anything else must answer.
                        let answer = try await self.request(message, to: peer)
                        return answer != nil || message.kind == .addProvider ? peer : nil
                    } catch { return nil }
                }
            }
            var answered: Set<PeerID> = []
            for await peer in group { if let peer { answered.insert(peer) } }
            return answered
        }
    }

    /// Announces every provided key again (run every `republishSeconds`).
    public func republish() async {
        for key in provided { await provide(key) }
        providers.expire(now: PeerGuard.now())
    }

    /// Providers of `key`, local first, then by an iterative GET_PROVIDERS lookup.
    public func findProviders(_ key: [UInt8], limit: Int = 20) async -> [PeerID] {
        let found = FoundSet()
        for peer in providers.providers(of: key, now: PeerGuard.now()) { found.insert(peer) }
        if found.count < limit {
            _ = await lookup(key: key, kind: .getProviders) { [weak self] _, answer in
                let ids = await self?.learn(answer.providers) ?? []
                for peer in ids { found.insert(peer) }
                return found.count >= limit
            }
        }
        return Array(found.all.prefix(limit))
    }

    /// Stores a signed record locally and on the closest peers; returns how many peers accepted it.
    @discardableResult
    public func put(_ record: DHTRecord) async throws(DHTRecordError) -> Int {
        _ = try DHTRecord(encoded: record.encoded, expectedKey: record.key)
        try store(record)
        let key = Array(record.key.utf8)
        let closest = await lookup(key: key, kind: .findNode).closest
        let message = KadMessage(kind: .putValue, key: key, record: KadMessage.Record(key: key, value: record.encoded))
        return await askAll(closest, message).count
    }

    static func nowMillis() -> UInt64 { UInt64(max(0, PeerGuard.now() * 1_000)) }

    /// The newest valid record for `key` that has not reached its end of life, from this node or the network.
    public func get(_ key: String) async -> DHTRecord? {
        let best = BestRecord(values[key].flatMap { $0.expired(atMillis: Self.nowMillis()) ? nil : $0 })
        let bytes = Array(key.utf8)
        _ = await lookup(key: bytes, kind: .getValue) { _, answer in
            if let value = answer.record?.value, let record = try? DHTRecord(encoded: value, expectedKey: key),
               !record.expired(atMillis: DHT.nowMillis()) { best.offer(record) }
            return false
        }
        if let record = best.record { try? store(record) }
        return best.record
    }

    /// Connects to the bootstrap peers and looks up our own ID to fill the routing table.
    public func bootstrap(_ peers: [Multiaddr]) async -> Int {
        var connected = 0
        for address in peers {
            do {
                let peer = try await swarm.dial(address)
                table.add(peer)
                connected += 1
            } catch {
                logger.warning("bootstrap peer unreachable", metadata: ["address": "\(address)", "error": "\(error)"])
            }
        }
        _ = await closestPeers(to: swarm.peerID.bytes)
        save()
        return connected
    }
}

/// Small lock-protected accumulators that lookup callbacks (which run concurrently) write into.
public final class DoneFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    public init() {}
    public func set() { value.withLockedValue { $0 = true } }
    public var isSet: Bool { value.withLockedValue { $0 } }
}

final class FoundSet: Sendable {
    private let peers = NIOLockedValueBox([PeerID]())
    func insert(_ peer: PeerID) { peers.withLockedValue { if !$0.contains(peer) { $0.append(peer) } } }
    var count: Int { peers.withLockedValue { $0.count } }
    var all: [PeerID] { peers.withLockedValue { $0 } }
}

final class BestRecord: Sendable {
    private let best: NIOLockedValueBox<DHTRecord?>
    init(_ initial: DHTRecord?) { best = NIOLockedValueBox(initial) }
    func offer(_ record: DHTRecord) { best.withLockedValue { if $0 == nil || record.seq > $0!.seq { $0 = record } } }
    var record: DHTRecord? { best.withLockedValue { $0 } }
}
