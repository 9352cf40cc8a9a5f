import Foundation
import Ledger
import Logging
import Storage

/// The MiMei exchange, `/ledgerd/mimei/1.0.0` (specs/p2p.md §7.3): a peer asks for a MiMei's newest
/// signed head, or for one of a private MiMei's blocks, presenting a capability when the MiMei is
/// private. A private MiMei's head never enters the DHT and its blocks are never given over Bitswap, so
/// this is how a reader finds and fetches it. Over the exchange a capability passes only when it names
/// the asking peer as its reader (a bearer capability is for the gateway alone), so one overheard here is
/// worth nothing to anyone else. Every refusal — an unknown MiMei, a private one without a good
/// capability, a block not of that MiMei — is the same `not found`, so a stranger cannot tell which it met.
///
/// One request per stream: the CBOR map {mimei: 20 bytes, capability: bytes (empty for none)[, block:
/// binary CID]}, each way a uvarint-length-prefixed message; the answer is {record: bytes} (a head),
/// {block: bytes} (a block's data) or {error: "not found"}.
public actor MiMeiExchange: PrivateBlockSource {
    public static let protocolID = "/ledgerd/mimei/1.0.0"
    static let requestBytesMax = 1_024
    static let answerBytesMax = ContentStore.blockBytesMax + 1_024
    static let notFound = "not found"
    /// Peers asked at once for a head, and how long each has to answer.
    static let askedMax = 16
    static let answerMillis = 10_000
    /// MiMei whose granting peers are remembered (the newest kept).
    static let sourcesMax = 4_096

    let swarm: Swarm
    let store: MiMeiStore
    let logger: Logger
    /// For each private MiMei, the peers that last gave this node its head: the only ones asked for its blocks.
    private var sources: [ID: [PeerID]] = [:]
    private var sourceOrder: [ID] = []

    public init(swarm: Swarm, store: MiMeiStore, logger: Logger = .quiet("ledgerd.mimei")) {
        self.swarm = swarm
        self.store = store
        self.logger = logger
    }

    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
    }

    static func now() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    private nonisolated func serve(_ stream: P2PStream) async throws {
        defer { Task { await stream.close() } }
        guard let bytes = try await stream.readMessageOrEnd(max: Self.requestBytesMax) else { return }
        guard let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor, (2...3).contains(fields.count),
              case .bytes(let idBytes)? = fields["mimei"], let id = ID(bytes: idBytes), case .bytes(let capability)? = fields["capability"]
        else { throw WireError.malformed("MiMei exchange request is not {mimei, capability[, block]}") }
        let answer: CBOR
        if fields.count == 3 {
            guard case .bytes(let cidBytes)? = fields["block"], let cid = try? CID(bytes: cidBytes) else {
                throw WireError.malformed("MiMei exchange request with a block that is not a CID")
            }
            answer = block(cid, of: id, capability: capability, peer: stream.peer).map { .map(["block": .bytes($0)]) } ?? .map(["error": .text(Self.notFound)])
        } else {
            answer = head(id, capability: capability, peer: stream.peer).map { .map(["record": .bytes($0)]) } ?? .map(["error": .text(Self.notFound)])
        }
        try await stream.writeMessage(CBOREncoder.encode(answer))
    }

    /// The MiMei `peer` may read: a public one, or a private one its capability grants to `peer` by name.
    nonisolated func readable(_ id: ID, capability: [UInt8], peer: PeerID) -> MiMei? {
        guard let mimei = try? store.mimei(id) else { return nil }
        guard mimei.isPrivate else { return mimei }
        guard let granted = try? MiMeiCapability(encoded: capability), !granted.reader.isEmpty,
              (try? granted.check(mimei, reader: peer.bytes, now: Self.now())) != nil else { return nil }
        return mimei
    }

    /// The head record to give `peer`, or nil (told `not found`).
    nonisolated func head(_ id: ID, capability: [UInt8], peer: PeerID) -> [UInt8]? {
        guard readable(id, capability: capability, peer: peer) != nil else { return nil }
        return try? store.head(id)
    }

    /// A private MiMei's block for `peer`: only one marked as that MiMei's, held here.
    nonisolated func block(_ cid: CID, of id: ID, capability: [UInt8], peer: PeerID) -> [UInt8]? {
        guard let mimei = readable(id, capability: capability, peer: peer), mimei.isPrivate,
              (try? store.content.privateOwners(cid))?.contains(id) == true else { return nil }
        return try? store.content.get(cid)
    }

    public struct Found: Sendable {
        public let record: DHTRecord
        public let head: MiMeiHead
        /// The peers that answered with a good head (for a private MiMei: those that granted this node).
        public let peers: [PeerID]
    }

    /// The newest good head that any of `peers` (by default the connected ones) gives for `id`, presenting
    /// `capability`; nil when none does. Each head is checked: the record's signature by the author, the
    /// key, the descriptor's ID, and its end of life.
    public func head(_ id: ID, capability: [UInt8]?, peers: [PeerID]? = nil) async -> Found? {
        var asking: [PeerID] = []
        if let peers { asking = peers } else { asking = await swarm.connectedPeers.map(\.peer) }
        let swarm = self.swarm
        asking = Array(asking.filter { $0 != swarm.peerID }.prefix(Self.askedMax))
        let request = CBOREncoder.encode(.map(["mimei": .bytes(id.bytes), "capability": .bytes(capability ?? [])]))
        let answers = await withTaskGroup(of: (PeerID, DHTRecord, MiMeiHead)?.self) { group in
            for peer in asking {
                group.addTask { await Self.ask(peer, id: id, request: request, swarm: swarm) }
            }
            var found: [(PeerID, DHTRecord, MiMeiHead)] = []
            for await answer in group { if let answer { found.append(answer) } }
            return found
        }
        guard let best = answers.max(by: { $0.2.version < $1.2.version }) else { return nil }
        let found = Found(record: best.1, head: best.2, peers: answers.filter { $0.2.version == best.2.version && $0.2.cid == best.2.cid }.map(\.0))
        if best.2.mimei.isPrivate { remember(found.peers, for: id) }
        return found
    }

    private func remember(_ peers: [PeerID], for id: ID) {
        if sources[id] == nil {
            sourceOrder.append(id)
            if sourceOrder.count > Self.sourcesMax { sources[sourceOrder.removeFirst()] = nil }
        }
        sources[id] = peers
    }

    /// A private MiMei's block from the peers that gave this node its head (asked for the head first when
    /// none is known), presenting this node's capability; checked against its CID.
    public func block(_ cid: CID, of mimei: ID) async throws(BitswapError) -> [UInt8] {
        let capability = (try? store.capability(mimei)) ?? nil
        if sources[mimei]?.isEmpty != false { _ = await head(mimei, capability: capability) }
        let peers = sources[mimei] ?? []
        let request = CBOREncoder.encode(.map(["mimei": .bytes(mimei.bytes), "capability": .bytes(capability ?? []), "block": .bytes(cid.bytes)]))
        for peer in peers {
            guard let fields = await Self.exchange(peer, request: request, swarm: swarm, what: "MiMei block"),
                  case .bytes(let data)? = fields["block"], cid.matches(data) else { continue }
            return data
        }
        throw .notFound(cid, asked: peers.count)
    }

    /// One request and its answer's fields, or nil (no stream, no answer in time, not a map).
    private static func exchange(_ peer: PeerID, request: [UInt8], swarm: Swarm, what: String) async -> [String: CBOR]? {
        guard let stream = try? await swarm.openStream(to: peer, protocols: [protocolID]) else { return nil }
        defer { Task { await stream.close() } }
        guard let bytes = try? await withDeadline(millis: answerMillis, "\(what) from \(peer.short)", expire: { await stream.reset() }, {
            try await stream.writeMessage(request)
            return try await stream.readMessageOrEnd(max: answerBytesMax)
        }), let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor else { return nil }
        return fields
    }

    private static func ask(_ peer: PeerID, id: ID, request: [UInt8], swarm: Swarm) async -> (PeerID, DHTRecord, MiMeiHead)? {
        guard let fields = await exchange(peer, request: request, swarm: swarm, what: "MiMei head"), case .bytes(let encoded)? = fields["record"] else { return nil }
        let key = MiMei.headKey(id)
        guard let record = try? DHTRecord(encoded: encoded, expectedKey: key), let head = try? MiMeiHead(value: record.value, key: key),
              head.endOfLife > now() else { return nil }
        return (peer, record, head)
    }
}
