import Ledger

/// The messages of libp2p circuit relay v2 (specs/p2p.md §7.5), each sent varint-length-prefixed:
/// HopMessage {1 type, 2 peer, 3 reservation, 4 limit, 5 status} on `/libp2p/circuit/relay/0.2.0/hop`
/// and StopMessage {1 type, 2 peer, 3 limit, 4 status} on `/libp2p/circuit/relay/0.2.0/stop`, with
/// Peer {1 id, 2 addrs}, Reservation {1 expire, 2 addrs, 3 voucher} and Limit {1 duration, 2 data}.
public struct CircuitMessage: Equatable, Sendable {
    public static let hop = "/libp2p/circuit/relay/0.2.0/hop"
    public static let stop = "/libp2p/circuit/relay/0.2.0/stop"
    static let sizeMax = 4_096
    static let addressesMax = 16

    /// The two protocols' type numbers differ; one enum names them, and `wire` maps them.
    public enum Kind: Sendable, Equatable { case reserve, connect, status }

    public enum Status: UInt64, Sendable, Equatable {
        case ok = 100
        case reservationRefused = 200
        case resourceLimitExceeded = 201
        case permissionDenied = 202
        case connectionFailed = 203
        case noReservation = 204
        case malformedMessage = 400
        case unexpectedMessage = 401
    }

    public struct Peer: Equatable, Sendable {
        public var id: PeerID
        public var addresses: [Multiaddr] = []
    }

    public struct Reservation: Equatable, Sendable {
        /// Unix seconds.
        public var expire: UInt64
        public var addresses: [Multiaddr]
    }

    public struct Limit: Equatable, Sendable {
        public var seconds: UInt32?
        public var bytes: UInt64?
    }

    public var kind: Kind
    public var peer: Peer?
    public var reservation: Reservation?
    public var limit: Limit?
    public var status: Status?

    public init(kind: Kind, peer: Peer? = nil, reservation: Reservation? = nil, limit: Limit? = nil, status: Status? = nil) {
        self.kind = kind
        self.peer = peer
        self.reservation = reservation
        self.limit = limit
        self.status = status
    }

    public static func status(_ status: Status, reservation: Reservation? = nil, limit: Limit? = nil) -> CircuitMessage {
        CircuitMessage(kind: .status, reservation: reservation, limit: limit, status: status)
    }

    /// The message's encoding for the hop protocol (`stop: false`) or the stop protocol.
    public func bytes(stop: Bool) -> [UInt8] {
        var writer = ProtobufWriter()
        let type: UInt64 = switch (kind, stop) {
        case (.reserve, _): 0
        case (.connect, false): 1
        case (.connect, true): 0
        case (.status, false): 2
        case (.status, true): 1
        }
        writer.varint(1, type)
        if let peer {
            var inner = ProtobufWriter()
            inner.bytes(1, peer.id.bytes)
            for address in peer.addresses { inner.bytes(2, address.bytes) }
            writer.bytes(2, inner.bytes)
        }
        if let reservation, !stop {
            var inner = ProtobufWriter()
            inner.varint(1, reservation.expire)
            for address in reservation.addresses { inner.bytes(2, address.bytes) }
            writer.bytes(3, inner.bytes)
        }
        if let limit {
            var inner = ProtobufWriter()
            if let seconds = limit.seconds { inner.varint(1, UInt64(seconds)) }
            if let bytes = limit.bytes { inner.varint(2, bytes) }
            writer.bytes(stop ? 3 : 4, inner.bytes)
        }
        if let status { writer.varint(stop ? 4 : 5, status.rawValue) }
        return writer.bytes
    }

    /// Decodes a hop or stop message; unknown types and statuses, and bad peers or addresses, are malformed.
    public init(bytes: [UInt8], stop: Bool) throws(WireError) {
        let message = try ProtobufMessage(bytes)
        guard let type = message.varint(1) else { throw .malformed("circuit message without a type") }
        switch (type, stop) {
        case (0, false): kind = .reserve
        case (1, false), (0, true): kind = .connect
        case (2, false), (1, true): kind = .status
        default: throw .malformed("circuit message of unknown type \(type)")
        }
        if let raw = message.bytes(2) {
            let inner = try ProtobufMessage(raw)
            guard let id = inner.bytes(1) else { throw .malformed("circuit peer without an id") }
            let addresses = inner.allBytes(2)
            guard addresses.count <= Self.addressesMax else { throw .malformed("circuit peer with more than \(Self.addressesMax) addresses") }
            var parsed: [Multiaddr] = []
            for address in addresses { parsed.append(try Multiaddr(bytes: address)) }
            peer = Peer(id: try PeerID(bytes: id), addresses: parsed)
        }
        if !stop, let raw = message.bytes(3) {
            let inner = try ProtobufMessage(raw)
            guard let expire = inner.varint(1) else { throw .malformed("circuit reservation without an expiry") }
            let addresses = inner.allBytes(2)
            guard addresses.count <= Self.addressesMax else { throw .malformed("circuit reservation with more than \(Self.addressesMax) addresses") }
            var parsed: [Multiaddr] = []
            for address in addresses { parsed.append(try Multiaddr(bytes: address)) }
            reservation = Reservation(expire: expire, addresses: parsed)
        }
        if let raw = message.bytes(stop ? 3 : 4) {
            let inner = try ProtobufMessage(raw)
            let seconds = inner.varint(1)
            guard seconds.map({ $0 <= UInt64(UInt32.max) }) ?? true else { throw .malformed("circuit limit duration past 2^32 - 1") }
            limit = Limit(seconds: seconds.map { UInt32($0) }, bytes: inner.varint(2))
        }
        if let raw = message.varint(stop ? 4 : 5) {
            guard let status = Status(rawValue: raw) else { throw .malformed("circuit status \(raw) is unknown") }
            self.status = status
        }
    }
}
