import Ledger

/// libp2p pubsub's wire messages (the `rpc.proto` every gossipsub implementation shares, specs/p2p.md
/// §Gossipsub): each varint-prefixed on a `/meshsub/1.1.0` stream. Field numbers are libp2p's.
struct PubsubRPC: Equatable {
    struct Subscription: Equatable {
        var subscribe: Bool
        var topic: String
    }

    struct Control: Equatable {
        var ihave: [(topic: String, ids: [[UInt8]])] = []
        var iwant: [[UInt8]] = []
        var graft: [String] = []
        var prune: [(topic: String, backoffSeconds: UInt64?)] = []

        var isEmpty: Bool { ihave.isEmpty && iwant.isEmpty && graft.isEmpty && prune.isEmpty }

        static func == (a: Control, b: Control) -> Bool {
            a.ihave.map(\.topic) == b.ihave.map(\.topic) && a.ihave.map(\.ids) == b.ihave.map(\.ids) && a.iwant == b.iwant
                && a.graft == b.graft && a.prune.map(\.topic) == b.prune.map(\.topic) && a.prune.map(\.backoffSeconds) == b.prune.map(\.backoffSeconds)
        }
    }

    var subscriptions: [Subscription] = []
    var messages: [PubsubMessage] = []
    var control = Control()

    var isEmpty: Bool { subscriptions.isEmpty && messages.isEmpty && control.isEmpty }

    /// Bounds on what one RPC may carry, beyond its byte size (go-libp2p-pubsub's defaults or below).
    static let bytesMax = 1 << 20
    static let subscriptionsMax = 64
    static let messagesMax = 256
    static let idsMax = 5_000
    /// Longer topics and message IDs are dropped (never stored): a peer could otherwise park megabytes in them.
    static let topicBytesMax = 256
    static let idBytesMax = 128

    func encoded() -> [UInt8] {
        var rpc = ProtobufWriter()
        for subscription in subscriptions {
            var sub = ProtobufWriter()
            sub.varint(1, subscription.subscribe ? 1 : 0)
            sub.string(2, subscription.topic)
            rpc.bytes(1, sub.bytes)
        }
        for message in messages { rpc.bytes(2, message.encoded(withSignature: true)) }
        if !control.isEmpty {
            var writer = ProtobufWriter()
            for (topic, ids) in control.ihave {
                var ihave = ProtobufWriter()
                ihave.string(1, topic)
                for id in ids { ihave.bytes(2, id) }
                writer.bytes(1, ihave.bytes)
            }
            if !control.iwant.isEmpty {
                var iwant = ProtobufWriter()
                for id in control.iwant { iwant.bytes(1, id) }
                writer.bytes(2, iwant.bytes)
            }
            for topic in control.graft {
                var graft = ProtobufWriter()
                graft.string(1, topic)
                writer.bytes(3, graft.bytes)
            }
            for (topic, backoff) in control.prune {
                var prune = ProtobufWriter()
                prune.string(1, topic)
                if let backoff { prune.varint(3, backoff) }
                writer.bytes(4, prune.bytes)
            }
            rpc.bytes(3, writer.bytes)
        }
        return rpc.bytes
    }

    /// Decodes an RPC from a peer; anything beyond the bounds is a protocol violation.
    init(decoding bytes: [UInt8]) throws(WireError) {
        let rpc = try ProtobufMessage(bytes)
        let subscriptionFields = rpc.allBytes(1), messageFields = rpc.allBytes(2)
        guard subscriptionFields.count <= Self.subscriptionsMax, messageFields.count <= Self.messagesMax else {
            throw .malformed("pubsub RPC with \(subscriptionFields.count) subscriptions and \(messageFields.count) messages")
        }
        for field in subscriptionFields {
            let sub = try ProtobufMessage(field)
            guard let topic = sub.string(2) else { throw .malformed("pubsub subscription without a topic") }
            guard topic.utf8.count <= Self.topicBytesMax else { continue }
            subscriptions.append(Subscription(subscribe: (sub.varint(1) ?? 0) != 0, topic: topic))
        }
        for field in messageFields { messages.append(try PubsubMessage(decoding: field)) }
        if let controlBytes = rpc.bytes(3) {
            let fields = try ProtobufMessage(controlBytes)
            // Beyond the bounds, IDs are cut rather than the peer banned: go-libp2p-pubsub may batch topics.
            var ids = 0
            for field in fields.allBytes(1) {
                let ihave = try ProtobufMessage(field)
                let topic = ihave.string(1) ?? ""
                let list = ihave.allBytes(2).filter { $0.count <= Self.idBytesMax }.prefix(max(0, Self.idsMax - ids))
                ids += list.count
                if topic.utf8.count <= Self.topicBytesMax { control.ihave.append((topic, Array(list))) }
            }
            for field in fields.allBytes(2) {
                let list = try ProtobufMessage(field).allBytes(1).filter { $0.count <= Self.idBytesMax }.prefix(max(0, Self.idsMax - ids))
                ids += list.count
                control.iwant += list
            }
            for field in fields.allBytes(3) {
                if let topic = try ProtobufMessage(field).string(1), topic.utf8.count <= Self.topicBytesMax { control.graft.append(topic) }
            }
            for field in fields.allBytes(4) {
                let prune = try ProtobufMessage(field)
                if let topic = prune.string(1), topic.utf8.count <= Self.topicBytesMax { control.prune.append((topic, prune.varint(3))) }
            }
            guard control.graft.count + control.prune.count <= Self.subscriptionsMax else {
                throw .malformed("pubsub control message with \(control.graft.count + control.prune.count) grafts and prunes")
            }
        }
    }

    init(subscriptions: [Subscription] = [], messages: [PubsubMessage] = [], control: Control = Control()) {
        self.subscriptions = subscriptions
        self.messages = messages
        self.control = control
    }
}

/// One published message. Signed (libp2p's StrictSign, what Kubo requires): `from` is the author's peer
/// ID, `seqno` 8 bytes, `signature` the author's key over "libp2p-pubsub:" + the message's protobuf
/// encoding without `signature` and `key`; `key` carries the public key when the peer ID does not inline
/// it (RSA). The message ID is `from` + `seqno` (go-libp2p-pubsub's default, so Kubo agrees).
struct PubsubMessage: Equatable {
    var from: [UInt8]
    var data: [UInt8]
    var seqno: [UInt8]
    var topic: String
    var signature: [UInt8]?
    var key: [UInt8]?

    var id: [UInt8] { from + seqno }

    init(from: [UInt8], data: [UInt8], seqno: [UInt8], topic: String, signature: [UInt8]? = nil, key: [UInt8]? = nil) {
        self.from = from
        self.data = data
        self.seqno = seqno
        self.topic = topic
        self.signature = signature
        self.key = key
    }

    init(decoding bytes: [UInt8]) throws(WireError) {
        let message = try ProtobufMessage(bytes)
        guard let topic = message.string(4) else { throw .malformed("pubsub message without a topic") }
        from = message.bytes(1) ?? []
        data = message.bytes(2) ?? []
        seqno = message.bytes(3) ?? []
        self.topic = topic
        signature = message.bytes(5)
        key = message.bytes(6)
    }

    func encoded(withSignature: Bool) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes(1, from)
        writer.bytes(2, data)
        writer.bytes(3, seqno)
        writer.string(4, topic)
        if withSignature {
            if let signature { writer.bytes(5, signature) }
            if let key { writer.bytes(6, key) }
        }
        return writer.bytes
    }

    static let signaturePrefix = Array("libp2p-pubsub:".utf8)

    /// A message authored and signed by this node.
    static func signed(by identity: SecretKey, topic: String, data: [UInt8], seqno: UInt64) -> PubsubMessage {
        var message = PubsubMessage(from: identity.peerID.bytes, data: data, seqno: withUnsafeBytes(of: seqno.bigEndian) { Array($0) }, topic: topic)
        message.signature = identity.libp2pSignature(signaturePrefix + message.encoded(withSignature: false))
        return message
    }

    /// StrictSign: an author, an 8-byte sequence number and a signature by the author's key.
    var verifies: Bool {
        guard seqno.count == 8, let signature, let author = try? PeerID(bytes: from) else { return false }
        let publicKey: LibP2PKey
        if let inline = author.key {
            publicKey = inline
        } else {
            guard let key, let carried = try? LibP2PKey(protobuf: key), PeerID(key: carried) == author else { return false }
            publicKey = carried
        }
        return publicKey.verify(signature: signature, message: Self.signaturePrefix + encoded(withSignature: false))
    }
}
