import Foundation
import Ledger
import Logging
import Storage

/// The head exchange, `/ledgerd/mimei/1.0.0` (specs/p2p.md §7.3): a peer asks for a MiMei's newest
/// signed head, presenting a capability when the MiMei is private, and is answered with the head record
/// this node holds. A private MiMei's head never enters the DHT, so this is how a reader with a
/// capability finds it; a capability that passes (signed by the author, for this MiMei, not expired, its
/// reader the asking peer or empty) also lets that peer fetch the MiMei's blocks over Bitswap until it
/// expires. Every refusal — an unknown MiMei, a private one without a good capability — is the same
/// `not found`, so a stranger cannot tell which it met.
///
/// One request per stream: the CBOR map {mimei: 20 bytes, capability: bytes (empty for none)}, each way
/// a uvarint-length-prefixed message; the answer is {record: bytes} or {error: "not found"}.
public actor MiMeiExchange {
    public static let protocolID = "/ledgerd/mimei/1.0.0"
    static let requestBytesMax = 1_024
    static let answerBytesMax = 16_384
    static let notFound = "not found"
    /// Peers asked at once for a head, and how long each has to answer.
    static let askedMax = 16
    static let answerMillis = 5_000

    let swarm: Swarm
    let store: MiMeiStore
    let grants: CapabilityGrants
    let logger: Logger

    public init(swarm: Swarm, store: MiMeiStore, grants: CapabilityGrants, logger: Logger = .quiet("ledgerd.mimei")) {
        self.swarm = swarm
        self.store = store
        self.grants = grants
        self.logger = logger
    }

    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
    }

    static func now() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    private nonisolated func serve(_ stream: P2PStream) async throws {
        defer { Task { await stream.close() } }
        guard let bytes = try await stream.readMessageOrEnd(max: Self.requestBytesMax) else { return }
        guard let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor, fields.count == 2,
              case .bytes(let idBytes)? = fields["mimei"], let id = ID(bytes: idBytes), case .bytes(let capability)? = fields["capability"]
        else { throw WireError.malformed("MiMei head request is not {mimei, capability}") }
        let answer = answer(id, capability: capability, peer: stream.peer)
        try await stream.writeMessage(CBOREncoder.encode(.map(answer.map { ["record": .bytes($0)] } ?? ["error": .text(Self.notFound)])))
    }

    /// The head record to give `peer`, or nil (told `not found`).
    nonisolated func answer(_ id: ID, capability: [UInt8], peer: PeerID) -> [UInt8]? {
        guard let mimei = try? store.mimei(id), let record = try? store.head(id) else { return nil }
        if mimei.isPrivate {
            let now = Self.now()
            guard let granted = try? MiMeiCapability(encoded: capability), (try? granted.check(mimei, reader: peer.bytes, now: now)) != nil else { return nil }
            grants.grant(peer, id, until: granted.expires, now: now)
        }
        return record
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
        return Found(record: best.1, head: best.2, peers: answers.filter { $0.2.version == best.2.version && $0.2.cid == best.2.cid }.map(\.0))
    }

    private static func ask(_ peer: PeerID, id: ID, request: [UInt8], swarm: Swarm) async -> (PeerID, DHTRecord, MiMeiHead)? {
        guard let stream = try? await swarm.openStream(to: peer, protocols: [protocolID]) else { return nil }
        defer { Task { await stream.close() } }
        guard let bytes = try? await withDeadline(millis: answerMillis, "MiMei head from \(peer.short)", expire: { await stream.reset() }, {
            try await stream.writeMessage(request)
            return try await stream.readMessageOrEnd(max: answerBytesMax)
        }), let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor, case .bytes(let encoded)? = fields["record"] else { return nil }
        let key = MiMei.headKey(id)
        guard let record = try? DHTRecord(encoded: encoded, expectedKey: key), let head = try? MiMeiHead(value: record.value, key: key),
              head.endOfLife > now() else { return nil }
        return (peer, record, head)
    }
}
