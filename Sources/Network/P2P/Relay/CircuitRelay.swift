import Foundation
import Ledger
import Logging

/// Who a relay carries traffic for, and how much: the ledger's forwarding contracts and credit lines,
/// behind an interface so that the P2P layer knows nothing of them.
public protocol RelayPolicy: Sendable {
    /// nil when `client` may hold a reservation; otherwise why not.
    func refusal(toReserveFor client: PeerID) async -> String?
    /// Whether `bytes` more may cross a circuit of `client`'s (counted when true).
    func relay(for client: PeerID, bytes: Int) async -> Bool
}

/// The relay side of circuit relay v2 (`/libp2p/circuit/relay/0.2.0/hop`, specs/p2p.md §7.5): holds
/// reservations for peers its policy accepts, and on a CONNECT to one of them opens a stop stream to it
/// over the reserving peer's own connection and splices the two streams, admitting every chunk through
/// the policy. A circuit whose client runs out of credit is reset, in both directions.
public actor CircuitRelay {
    /// A reservation lasts an hour; the client renews it before then.
    public static let reservationSeconds: UInt64 = 3_600
    static let reservationsMax = 1_024
    static let circuitsPerClientMax = 16
    static let chunkBytes = 1 << 16

    public struct Reservation: Sendable {
        public let client: PeerID
        public let expires: Date
        public var circuits: Int
        public var relayed: UInt64
    }

    let swarm: Swarm
    let policy: any RelayPolicy
    let logger: Logger
    private var reservations: [PeerID: Reservation] = [:]

    public init(swarm: Swarm, policy: any RelayPolicy, logger: Logger = .quiet("ledgerd.relay")) {
        self.swarm = swarm
        self.policy = policy
        self.logger = logger
    }

    public func start() async {
        await swarm.handle(CircuitMessage.hop) { [weak self] stream in try await self?.serve(stream) }
        // A reservation lives as long as the connection it was made on.
        await swarm.observeConnections { [weak self] peer, connected in if !connected { await self?.drop(peer) } }
    }

    private func drop(_ peer: PeerID) { reservations[peer] = nil }

    /// The live reservations, for the API.
    public var current: [Reservation] {
        let now = Date()
        return reservations.values.filter { $0.expires > now }.sorted { $0.client < $1.client }
    }

    private nonisolated func serve(_ stream: P2PStream) async throws {
        guard let request = try? CircuitMessage(bytes: try await stream.readMessage(max: CircuitMessage.sizeMax), stop: false) else {
            try? await stream.writeMessage(CircuitMessage.status(.malformedMessage).bytes(stop: false))
            return await stream.close()
        }
        switch request.kind {
        case .reserve: await reserve(stream)
        case .connect: await connect(stream, to: request.peer?.id)
        case .status:
            try? await stream.writeMessage(CircuitMessage.status(.unexpectedMessage).bytes(stop: false))
            await stream.close()
        }
    }

    private func reserve(_ stream: P2PStream) async {
        let client = stream.peer
        let answer: CircuitMessage
        if let why = await policy.refusal(toReserveFor: client) {
            logger.info("refused a relay reservation", metadata: ["peer": "\(client.short)", "reason": "\(why)"])
            answer = .status(.reservationRefused)
        } else if reservations[client] == nil && reservations.count >= Self.reservationsMax {
            answer = .status(.resourceLimitExceeded)
        } else {
            let expire = UInt64(Date().timeIntervalSince1970) + Self.reservationSeconds
            let previous = reservations[client]
            reservations[client] = Reservation(client: client, expires: Date(timeIntervalSince1970: Double(expire)),
                                               circuits: previous?.circuits ?? 0, relayed: previous?.relayed ?? 0)
            let addresses = await swarm.addresses.filter { $0.circuit == nil }.prefix(CircuitMessage.addressesMax)
            answer = .status(.ok, reservation: .init(expire: expire, addresses: Array(addresses)), limit: nil)
            if previous == nil { logger.info("relay reservation made", metadata: ["peer": "\(client.short)"]) }
        }
        try? await stream.writeMessage(answer.bytes(stop: false))
        await stream.close()
    }

    private func refuse(_ stream: P2PStream, _ status: CircuitMessage.Status) async {
        try? await stream.writeMessage(CircuitMessage.status(status).bytes(stop: false))
        await stream.close()
    }

    private func connect(_ source: P2PStream, to target: PeerID?) async {
        guard let target else { return await refuse(source, .malformedMessage) }
        guard let reservation = reservations[target], reservation.expires > Date() else { return await refuse(source, .noReservation) }
        guard reservation.circuits < Self.circuitsPerClientMax, await policy.relay(for: target, bytes: 0) else {
            return await refuse(source, .resourceLimitExceeded)
        }
        // Over the client's own connection only: a relay never dials the peer it relays for.
        guard await swarm.isConnected(target), let sink = try? await swarm.openStream(to: target, protocols: [CircuitMessage.stop]) else {
            return await refuse(source, .connectionFailed)
        }
        let accepted = try? await withDeadline(millis: swarm.config.deadlines.streamOpenMillis, "a stop stream to \(target.short)",
                                               expire: { await sink.reset() }) {
            try await sink.writeMessage(CircuitMessage(kind: .connect, peer: .init(id: source.peer)).bytes(stop: true))
            return try CircuitMessage(bytes: try await sink.readMessage(max: CircuitMessage.sizeMax), stop: true)
        }
        guard let accepted, accepted.kind == .status, accepted.status == .ok else {
            await sink.reset()
            return await refuse(source, .connectionFailed)
        }
        guard (try? await source.writeMessage(CircuitMessage.status(.ok).bytes(stop: false))) != nil else { return await sink.reset() }
        reservations[target]?.circuits += 1
        logger.info("relaying a circuit", metadata: ["from": "\(source.peer.short)", "to": "\(target.short)"])
        Task { await self.splice(source, sink, client: target) }
    }

    private func counted(_ client: PeerID, bytes: Int) { reservations[client]?.relayed &+= UInt64(bytes) }
    private func circuitEnded(_ client: PeerID) { reservations[client]?.circuits -= 1 }

    /// Copies both ways until both sides have closed; any failure, or a chunk the policy refuses, resets both.
    private nonisolated func splice(_ a: P2PStream, _ b: P2PStream, client: PeerID) async {
        await a.stream.limitIdle(millis: nil)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.copy(from: a, to: b, client: client) }
            group.addTask { await self.copy(from: b, to: a, client: client) }
        }
        await circuitEnded(client)
    }

    private nonisolated func copy(from source: P2PStream, to sink: P2PStream, client: PeerID) async {
        do {
            while let chunk = try await source.readSome(max: Self.chunkBytes) {
                guard await policy.relay(for: client, bytes: chunk.count) else {
                    logger.info("relay stopped a circuit: the client's credit is used", metadata: ["client": "\(client.short)"])
                    await source.reset()
                    await sink.reset()
                    return
                }
                await counted(client, bytes: chunk.count)
                try await sink.write(chunk)
            }
            await sink.close()
        } catch {
            await source.reset()
            await sink.reset()
        }
    }
}
