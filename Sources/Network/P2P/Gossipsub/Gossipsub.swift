import Foundation
import Ledger
import Logging
import Metrics
import Synchronization

/// libp2p gossipsub v1.1 (`/meshsub/1.1.0`, specs/p2p.md §Gossipsub): each topic has a mesh of about D
/// peers that forward every message in full, and the others hear of messages by ID (IHAVE) and ask for
/// the ones they lack (IWANT), so a message costs O(n·D) sends instead of a flood's O(n²). Messages are
/// signed by their authors (StrictSign) and identified by author + sequence number; a seen-cache drops
/// repeats; the application validates each message before it is forwarded; peers are scored (first
/// deliveries up, invalid messages and misbehaviour down) and a low score loses gossip, our publications
/// and finally a hearing. Interoperates with go-libp2p-pubsub (Kubo).
public actor Gossipsub {
    public static let protocolName = "/meshsub/1.1.0"

    public enum Validation: Sendable { case accept, reject, ignore }
    /// Checks a message's data for its topic, from the peer that forwarded it.
    public typealias Validator = @Sendable (_ data: [UInt8], _ source: PeerID) async -> Validation

    public struct Parameters: Sendable {
        public var d = 6, dLow = 4, dHigh = 12, dLazy = 6
        public var heartbeatMillis = 1_000
        public var pruneBackoffSeconds: UInt64 = 60
        /// IHAVE messages read from a peer per heartbeat, and message IDs asked for per heartbeat.
        public var ihavePerHeartbeatMax = 10, iwantIDsPerHeartbeatMax = 1_000
        /// Messages sent in answer to one peer's IWANTs per heartbeat.
        public var iwantServedPerHeartbeatMax = 512
        /// Heartbeats within which an asked-for message must arrive, or the promise is broken.
        public var promiseHeartbeats = 3
        public var seenMax = 65_536
        public init() {}
    }

    let swarm: Swarm
    let parameters: Parameters
    let logger: Logger
    private var validators: [String: Validator] = [:]
    private var peerTopics: [PeerID: Set<String>] = [:]
    private var mesh: [String: Set<PeerID>] = [:]
    private var backoff: [String: [PeerID: Double]] = [:]
    private var scores: [PeerID: PeerScore] = [:]
    private var seen: SeenCache
    private var cache = MessageCache()
    /// The next message's sequence number, taken without the actor (publishing signs off the actor).
    private nonisolated let sequence: Atomic<UInt64>
    private var heartbeats = 0
    private var ihaveCounts: [PeerID: Int] = [:]
    private var iwantCounts: [PeerID: Int] = [:]
    private var iwantServed: [PeerID: Int] = [:]
    private var promises: [PeerID: [[UInt8]: Int]] = [:]
    private var helloSent: Set<PeerID> = []
    private var heartbeatTask: Task<Void, Never>?
    private lazy var outbox = PeerOutbox(swarm: swarm, protocolName: Self.protocolName, queueMax: 4_096, logger: logger)

    public init(swarm: Swarm, parameters: Parameters = Parameters(), logger: Logger) {
        self.swarm = swarm
        self.parameters = parameters
        self.logger = logger
        seen = SeenCache(capacity: parameters.seenMax)
        // Sequence numbers start at the clock in nanoseconds, as go-libp2p-pubsub's do, so a restarted
        // node's messages are not taken for repeats of its earlier ones.
        sequence = Atomic(UInt64(Date().timeIntervalSince1970 * 1e9))
    }

    /// Subscribes to `topic`, with the validator its messages pass before they are kept and forwarded.
    public func subscribe(_ topic: String, validator: @escaping Validator) async {
        validators[topic] = validator
        mesh[topic] = mesh[topic] ?? []
        for peer in peerTopics.keys { send(PubsubRPC(subscriptions: [.init(subscribe: true, topic: topic)]), to: peer) }
    }

    public func start() async {
        await swarm.handle(Self.protocolName) { [weak self] stream in
            let peer = stream.peer
            await self?.hello(peer)
            while let bytes = try await stream.readMessageOrEnd(max: PubsubRPC.bytesMax) {
                let rpc = try PubsubRPC(decoding: bytes)
                guard let self else { break }
                await self.handle(rpc, from: peer)
            }
            await stream.close()
        }
        await swarm.observeConnections { [weak self] peer, connected in
            if connected { await self?.hello(peer) } else { await self?.forget(peer) }
        }
        let interval = parameters.heartbeatMillis
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                await self?.heartbeat()
            }
        }
    }

    public func stop() {
        heartbeatTask?.cancel()
        heartbeatTask = nil
    }

    /// Publishes this node's own message. `flood` sends it to every subscribed peer whose score allows
    /// (v1.1's flood publishing, for messages only this node can start); otherwise to the mesh.
    /// The message is signed on the caller's task, so that publishing spreads over the cores.
    @discardableResult
    public nonisolated func publish(_ topic: String, _ data: [UInt8], flood: Bool = true, excluding: Set<PeerID> = []) async -> Int {
        let seqno = sequence.add(1, ordering: .relaxed).newValue
        let message = PubsubMessage.signed(by: swarm.identity, topic: topic, data: data, seqno: seqno)
        return await send(published: message, flood: flood, excluding: excluding)
    }

    private func send(published message: PubsubMessage, flood: Bool, excluding: Set<PeerID> = []) -> Int {
        let topic = message.topic
        seen.insert(Digest.of(message.id))
        cache.put(message)
        let subscribed = peerTopics.filter { $0.value.contains(topic) && score($0.key) >= PeerScore.publishThreshold }.map(\.key)
        var targets = flood ? Set(subscribed) : (mesh[topic] ?? [])
        if targets.isEmpty { targets = Set(subscribed.shuffled().prefix(parameters.d)) }
        targets.subtract(excluding)
        for peer in targets { send(PubsubRPC(messages: [message]), to: peer) }
        return targets.count
    }

    /// Peers in `topic`'s mesh, and all peers known to be subscribed to it (for status and tests).
    public func peers(in topic: String) -> (mesh: [PeerID], subscribed: [PeerID]) {
        ((mesh[topic] ?? []).sorted(), peerTopics.filter { $0.value.contains(topic) }.map(\.key).sorted())
    }

    public func score(of peer: PeerID) -> Double { score(peer) }

    /// What this router holds on a peer's account (for the tests that a stranger cannot grow it).
    func footprint() -> (topics: Int, backoffTopics: Int, promises: Int) {
        (peerTopics.values.reduce(0) { $0 + $1.count }, backoff.count, promises.values.reduce(0) { $0 + $1.count })
    }

    private func score(_ peer: PeerID) -> Double { scores[peer]?.value ?? 0 }

    private func send(_ rpc: PubsubRPC, to peer: PeerID) {
        guard !rpc.isEmpty else { return }
        let bytes = rpc.encoded()
        guard bytes.count <= PubsubRPC.bytesMax else { return }
        Task { await outbox.send(bytes, to: peer) }
    }

    /// Our subscriptions, once per connection, to a peer that speaks gossipsub.
    private func hello(_ peer: PeerID) {
        guard helloSent.insert(peer).inserted else { return }
        if peerTopics[peer] == nil { peerTopics[peer] = [] }
        send(PubsubRPC(subscriptions: validators.keys.sorted().map { .init(subscribe: true, topic: $0) }), to: peer)
    }

    private func forget(_ peer: PeerID) async {
        helloSent.remove(peer)
        peerTopics[peer] = nil
        for topic in mesh.keys { mesh[topic]?.remove(peer) }
        promises[peer] = nil
        // A good or neutral score is forgotten; a bad one is kept, so that reconnecting does not clear it.
        if score(peer) >= 0 { scores[peer] = nil }
        if scores.count > 4_096 { scores = scores.filter { $0.value.value < PeerScore.graylistThreshold } }
        await outbox.close(peer)
    }

    func handle(_ rpc: PubsubRPC, from peer: PeerID) async {
        guard score(peer) >= PeerScore.graylistThreshold else { return }
        if peerTopics[peer] == nil { peerTopics[peer] = [] }
        var grafts: [String] = []
        for subscription in rpc.subscriptions {
            if subscription.subscribe {
                // Only topics this node follows are remembered: nothing else is ever sent or asked for.
                guard validators[subscription.topic] != nil else { continue }
                peerTopics[peer]?.insert(subscription.topic)
                // A topic of ours whose mesh is short takes the peer at once rather than at the next heartbeat.
                let topic = subscription.topic
                if validators[topic] != nil, (mesh[topic]?.count ?? 0) < parameters.dLow, score(peer) >= 0,
                    (backoff[topic]?[peer] ?? 0) <= Date().timeIntervalSince1970, mesh[topic]?.insert(peer).inserted == true
                {
                    grafts.append(topic)
                }
            } else {
                peerTopics[peer]?.remove(subscription.topic)
                mesh[subscription.topic]?.remove(peer)
            }
        }
        // Signatures of the messages not seen yet are checked in parallel, off the actor (ECDSA or RSA, as
        // costly as the transaction's own); a message is marked seen only once its signature holds, so a
        // forged copy cannot keep the real one out.
        let fresh = rpc.messages.filter { validators[$0.topic] != nil && !seen.contains(Digest.of($0.id)) }
        let verified = await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, message) in fresh.enumerated() { group.addTask { (index, message.verifies) } }
            var results = [Bool](repeating: false, count: fresh.count)
            for await (index, valid) in group { results[index] = valid }
            return results
        }
        for (message, valid) in zip(fresh, verified) { await receive(message, signatureValid: valid, from: peer) }
        for message in rpc.messages where validators[message.topic] != nil && !fresh.contains(message) {
            promises[peer]?[message.id] = nil
            Self.received["duplicate"]?.increment()
        }
        var reply = PubsubRPC.Control()
        reply.graft = grafts
        respond(to: rpc.control, from: peer, reply: &reply)
        send(PubsubRPC(control: reply), to: peer)
        // IWANT: what the cache holds, within a per-heartbeat budget, each message in its own RPC (so that
        // no reply passes the size bound and is lost with the control messages beside it).
        if score(peer) >= PeerScore.gossipThreshold {
            for id in rpc.control.iwant where iwantServed[peer, default: 0] < parameters.iwantServedPerHeartbeatMax {
                guard let message = cache.get(id) else { continue }
                iwantServed[peer, default: 0] += 1
                send(PubsubRPC(messages: [message]), to: peer)
            }
        }
    }

    /// Messages received on our topics, by what became of them (Prometheus `/metrics`).
    static let received = [
        "accepted": Counter(label: "ledgerd_pubsub_messages_total", dimensions: [("result", "accepted")]),
        "rejected": Counter(label: "ledgerd_pubsub_messages_total", dimensions: [("result", "rejected")]),
        "ignored": Counter(label: "ledgerd_pubsub_messages_total", dimensions: [("result", "ignored")]),
        "duplicate": Counter(label: "ledgerd_pubsub_messages_total", dimensions: [("result", "duplicate")]),
        "bad_signature": Counter(label: "ledgerd_pubsub_messages_total", dimensions: [("result", "bad_signature")]),
    ]

    private func receive(_ message: PubsubMessage, signatureValid: Bool, from peer: PeerID) async {
        guard let validator = validators[message.topic] else { return }
        let id = message.id
        promises[peer]?[id] = nil
        guard signatureValid else {
            Self.received["bad_signature"]?.increment()
            scores[peer, default: PeerScore()].invalidMessages += 1
            logger.debug("pubsub message with a bad signature", metadata: ["peer": "\(peer.short)", "topic": "\(message.topic)"])
            return
        }
        // Another copy may have been verified meanwhile (the actor is re-entered while signatures are checked).
        guard seen.insert(Digest.of(id), from: peer) else {
            Self.received["duplicate"]?.increment()
            return
        }
        switch await validator(message.data, peer) {
        case .accept:
            Self.received["accepted"]?.increment()
            scores[peer, default: PeerScore()].firstDeliveries += 1
            cache.put(message)
            let author = try? PeerID(bytes: message.from)
            for next in mesh[message.topic] ?? [] where next != peer && next != author { send(PubsubRPC(messages: [message]), to: next) }
        case .reject:
            Self.received["rejected"]?.increment()
            scores[peer, default: PeerScore()].invalidMessages += 1
        case .ignore:
            Self.received["ignored"]?.increment()
        }
    }

    private func respond(to control: PubsubRPC.Control, from peer: PeerID, reply: inout PubsubRPC.Control) {
        let now = Date().timeIntervalSince1970
        if score(peer) >= PeerScore.gossipThreshold {
            var wanted: [[UInt8]] = []
            for (topic, ids) in control.ihave where validators[topic] != nil {
                ihaveCounts[peer, default: 0] += 1
                guard ihaveCounts[peer, default: 0] <= parameters.ihavePerHeartbeatMax else { break }
                for id in ids where !seen.contains(Digest.of(id)) && iwantCounts[peer, default: 0] < parameters.iwantIDsPerHeartbeatMax {
                    iwantCounts[peer, default: 0] += 1
                    wanted.append(id)
                    promises[peer, default: [:]][id] = heartbeats + parameters.promiseHeartbeats
                }
            }
            reply.iwant = wanted
        }
        for topic in control.graft {
            guard validators[topic] != nil else { reply.prune.append((topic, parameters.pruneBackoffSeconds)); continue }
            if let until = backoff[topic]?[peer], until > now {
                // Grafting while told to back off: misbehaviour (P7), and backed off again.
                scores[peer, default: PeerScore()].behaviourPenalty += 1
                reply.prune.append((topic, parameters.pruneBackoffSeconds))
                continue
            }
            guard score(peer) >= 0, (mesh[topic]?.count ?? 0) < parameters.dHigh else {
                backoff[topic, default: [:]][peer] = now + Double(parameters.pruneBackoffSeconds)
                reply.prune.append((topic, parameters.pruneBackoffSeconds))
                continue
            }
            mesh[topic, default: []].insert(peer)
        }
        for (topic, seconds) in control.prune where validators[topic] != nil {
            mesh[topic]?.remove(peer)
            backoff[topic, default: [:]][peer] = now + Double(min(seconds ?? parameters.pruneBackoffSeconds, 3_600))
        }
    }

    /// Once per `heartbeatMillis`: scores decay, broken promises are counted, each mesh is brought back
    /// within D_low…D_high, IHAVE goes to D_lazy peers outside the mesh, and the cache shifts.
    func heartbeat() {
        heartbeats += 1
        let now = Date().timeIntervalSince1970
        for peer in scores.keys { scores[peer]?.decayOnce() }
        for (peer, asked) in promises {
            let broken = asked.filter { $0.value < heartbeats }
            guard !broken.isEmpty else { continue }
            scores[peer, default: PeerScore()].behaviourPenalty += 1
            promises[peer] = asked.filter { $0.value >= heartbeats }
        }
        ihaveCounts = [:]
        iwantCounts = [:]
        iwantServed = [:]
        var controls: [PeerID: PubsubRPC.Control] = [:]
        for topic in validators.keys {
            let subscribed = peerTopics.filter { $0.value.contains(topic) }.map(\.key)
            var members = (mesh[topic] ?? []).filter { peerTopics[$0]?.contains(topic) == true && score($0) >= 0 }
            for dropped in (mesh[topic] ?? []).subtracting(members) { controls[dropped, default: .init()].prune.append((topic, parameters.pruneBackoffSeconds)) }
            if members.count < parameters.dLow {
                let candidates = subscribed.filter { !members.contains($0) && score($0) >= 0 && (backoff[topic]?[$0] ?? 0) <= now }.shuffled()
                for peer in candidates.prefix(parameters.d - members.count) {
                    members.insert(peer)
                    controls[peer, default: .init()].graft.append(topic)
                }
            } else if members.count > parameters.dHigh {
                let kept = Set(members.sorted { score($0) > score($1) }.prefix(parameters.d))
                for peer in members.subtracting(kept) {
                    controls[peer, default: .init()].prune.append((topic, parameters.pruneBackoffSeconds))
                    backoff[topic, default: [:]][peer] = now + Double(parameters.pruneBackoffSeconds)
                }
                members = kept
            }
            mesh[topic] = members
            // IHAVE shares one RPC's bound across the topics: each topic its part of the 5,000 IDs.
            let ids = cache.gossipIDs(topic: topic)
            if !ids.isEmpty {
                let share = PubsubRPC.idsMax / max(1, validators.count)
                let lazy = subscribed.filter { !members.contains($0) && score($0) >= PeerScore.gossipThreshold }.shuffled().prefix(parameters.dLazy)
                for peer in lazy { controls[peer, default: .init()].ihave.append((topic, Array(ids.suffix(share)))) }
            }
        }
        for (peer, control) in controls { send(PubsubRPC(control: control), to: peer) }
        cache.shift()
        for topic in backoff.keys { backoff[topic] = backoff[topic]?.filter { $0.value > now } }
        backoff = backoff.filter { !$0.value.isEmpty }
    }
}

extension Digest {
    /// A fixed-size key for a message ID of any length (the seen-cache keys by digest).
    static func of(_ id: [UInt8]) -> Digest { SHA256.hash(id) }
}
