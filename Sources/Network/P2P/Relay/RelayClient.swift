import Foundation
import Ledger
import Logging

/// The reachable-through-a-relay side of circuit relay v2 (specs/p2p.md §7.5): a node that cannot be
/// dialled (a home node behind NAT) keeps a reservation with each relay it is given, advertises
/// `<relay>/p2p/R/p2p-circuit/p2p/<itself>` while the reservation holds, and accepts the stop streams
/// those relays open for peers that dial that address. Every raw byte of a relayed connection is
/// reported to `onRelayed`, per relay: the relay bills the client for it (`forward` receipts).
public actor RelayClient {
    /// Reservations are renewed when this close to expiry, and checked this often.
    static let renewSeconds = 300.0
    static let checkSeconds = 10.0

    public struct Relay: Sendable {
        public let address: Multiaddr
        public var expires: Date?
        public var refusal: String?
    }

    let swarm: Swarm
    let logger: Logger
    let onRelayed: @Sendable (PeerID, Int) async -> Void
    private var relays: [PeerID: Relay] = [:]
    private var task: Task<Void, Never>?

    /// `addresses` are the relays' own addresses, each with its /p2p.
    public init(swarm: Swarm, relays addresses: [Multiaddr], logger: Logger = .quiet("ledgerd.relay"),
                onRelayed: @escaping @Sendable (PeerID, Int) async -> Void) {
        self.swarm = swarm
        self.logger = logger
        self.onRelayed = onRelayed
        for address in addresses { if let peer = address.peer { relays[peer] = Relay(address: address) } }
    }

    public func start() async {
        await swarm.handle(CircuitMessage.stop) { [weak self] stream in try await self?.serve(stream) }
        task = Task { [weak self] in
            while !Task.isCancelled {
                await self?.renew()
                do { try await Task.sleep(for: .seconds(Self.checkSeconds)) } catch { return }
            }
        }
    }

    public func stop() { task?.cancel() }

    public var current: [Relay] { relays.keys.sorted().compactMap { relays[$0] } }

    /// Reserves with every relay whose reservation is missing, near its end, or lost with its connection.
    private func renew() async {
        let now = Date()
        for (peer, relay) in relays {
            let connected = await swarm.isConnected(peer)
            if connected, let expires = relay.expires, expires.timeIntervalSince(now) > Self.renewSeconds { continue }
            do {
                let reservation = try await reserve(relay.address)
                relays[peer]?.expires = Date(timeIntervalSince1970: Double(reservation.expire))
                relays[peer]?.refusal = nil
                if relay.expires == nil { logger.info("relay reservation held", metadata: ["relay": "\(peer.short)"]) }
            } catch {
                relays[peer]?.expires = nil
                relays[peer]?.refusal = "\(error)"
                logger.info("relay reservation failed", metadata: ["relay": "\(peer.short)", "reason": "\(error)"])
            }
        }
        await swarm.setRelayAddresses(relays.values.filter { ($0.expires ?? .distantPast) > now }
            .map { Multiaddr(components: $0.address.components + [.circuit]) })
    }

    private func reserve(_ address: Multiaddr) async throws -> CircuitMessage.Reservation {
        guard let relay = address.peer else { throw P2PError.dial("\(address) names no relay peer") }
        try await swarm.dial(address)
        let stream = try await swarm.openStream(to: relay, protocols: [CircuitMessage.hop])
        defer { Task { await stream.close() } }
        let answer = try await withDeadline(millis: swarm.config.deadlines.streamOpenMillis, "a reservation with \(relay.short)",
                                            expire: { await stream.reset() }) {
            try await stream.writeMessage(CircuitMessage(kind: .reserve).bytes(stop: false))
            return try CircuitMessage(bytes: try await stream.readMessage(max: CircuitMessage.sizeMax), stop: false)
        }
        guard answer.kind == .status, answer.status == .ok, let reservation = answer.reservation else {
            throw P2PError.dial("relay \(relay.short) refused the reservation: \(answer.status.map { "\($0)" } ?? "no status")")
        }
        return reservation
    }

    /// A relay's CONNECT: accepted only from a relay this node reserved with, for a peer that is not itself.
    private nonisolated func serve(_ stream: P2PStream) async throws {
        let relay = stream.peer
        guard let request = try? CircuitMessage(bytes: try await stream.readMessage(max: CircuitMessage.sizeMax), stop: true),
              request.kind == .connect, let initiator = request.peer?.id else {
            try? await stream.writeMessage(CircuitMessage.status(.malformedMessage).bytes(stop: true))
            return await stream.close()
        }
        guard let address = await reservedAddress(of: relay), initiator != swarm.peerID, initiator != relay else {
            try? await stream.writeMessage(CircuitMessage.status(.permissionDenied).bytes(stop: true))
            return await stream.close()
        }
        try await stream.writeMessage(CircuitMessage.status(.ok).bytes(stop: true))
        let onRelayed = self.onRelayed
        await swarm.acceptRelayed(stream, from: initiator, via: address) { await onRelayed(relay, $0) }
    }

    private func reservedAddress(of relay: PeerID) -> Multiaddr? {
        guard let held = relays[relay], (held.expires ?? .distantPast) > Date() else { return nil }
        return held.address
    }
}
