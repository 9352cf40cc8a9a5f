import Ledger
/// The kad-dht wire message (libp2p's `Message` protobuf under `/ipfs/kad/1.0.0`), each sent
/// varint-length-prefixed: {1 type, 2 key, 3 record, 8 closer peers, 9 provider peers, 10 cluster level}.
public struct KadMessage: Equatable, Sendable {
    public enum Kind: UInt64, Sendable { case putValue = 0, getValue = 1, addProvider = 2, getProviders = 3, findNode = 4, ping = 5 }

    public struct Peer: Equatable, Sendable {
        public var id: PeerID
        public var addresses: [Multiaddr]
        public var connection: UInt64 = 0  // 0 not connected, 1 connected, 2 can connect, 3 cannot
    }

    /// Record {1 key, 2 value, 5 time received}.
    public struct Record: Equatable, Sendable {
        public var key: [UInt8]
        public var value: [UInt8]
        public var timeReceived = ""
    }

    public static let maxSize = 64 * 1024
    static let maxPeers = 64

    public var kind: Kind
    public var key: [UInt8] = []
    public var record: Record?
    public var closer: [Peer] = []
    public var providers: [Peer] = []

    public init(kind: Kind, key: [UInt8] = [], record: Record? = nil, closer: [Peer] = [], providers: [Peer] = []) {
        self.kind = kind
        self.key = key
        self.record = record
        self.closer = closer
        self.providers = providers
    }

    public var bytes: [UInt8] {
        var writer = ProtobufWriter()
        writer.varint(1, kind.rawValue)
        if !key.isEmpty { writer.bytes(2, key) }
        if let record {
            var inner = ProtobufWriter()
            inner.bytes(1, record.key)
            inner.bytes(2, record.value)
            if !record.timeReceived.isEmpty { inner.string(5, record.timeReceived) }
            writer.bytes(3, inner.bytes)
        }
        for peer in closer { writer.bytes(8, Self.encode(peer)) }
        for peer in providers { writer.bytes(9, Self.encode(peer)) }
        return writer.bytes
    }

    static func encode(_ peer: Peer) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes(1, peer.id.bytes)
        for address in peer.addresses { writer.bytes(2, address.transport.bytes) }
        if peer.connection != 0 { writer.varint(3, peer.connection) }
        return writer.bytes
    }

    public init(bytes: [UInt8]) throws(WireError) {
        let message = try ProtobufMessage(bytes)
        guard let kind = Kind(rawValue: message.varint(1) ?? 0) else { throw .malformed("kad message type \(message.varint(1) ?? 0)") }
        self.kind = kind
        key = message.bytes(2) ?? []
        guard key.count <= 1024 else { throw .tooLarge("kad key of \(key.count) bytes") }
        if let recordBytes = message.bytes(3) {
            let inner = try ProtobufMessage(recordBytes)
            record = Record(key: inner.bytes(1) ?? [], value: inner.bytes(2) ?? [], timeReceived: inner.string(5) ?? "")
        }
        let closerBytes = message.allBytes(8), providerBytes = message.allBytes(9)
        guard closerBytes.count <= Self.maxPeers, providerBytes.count <= Self.maxPeers else { throw .tooLarge("more than \(Self.maxPeers) peers in a kad message") }
        closer = try closerBytes.map { bytes throws(WireError) in try Self.decodePeer(bytes) }
        providers = try providerBytes.map { bytes throws(WireError) in try Self.decodePeer(bytes) }
    }

    static func decodePeer(_ bytes: [UInt8]) throws(WireError) -> Peer {
        let message = try ProtobufMessage(bytes)
        guard let id = message.bytes(1) else { throw .malformed("kad peer without an ID") }
        // Addresses we cannot parse (QUIC, WebRTC...) are skipped, not fatal: other nodes speak more transports.
        let addresses = message.allBytes(2).prefix(16).compactMap { try? Multiaddr(bytes: $0) }.filter { $0.tcpEndpoint != nil }
        return Peer(id: try PeerID(bytes: id), addresses: addresses, connection: message.varint(3) ?? 0)
    }
}
