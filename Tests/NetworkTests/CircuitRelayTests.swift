import Foundation
import Ledger
import LedgerTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import LedgerNetwork

/// Circuit relay v2 between three real swarms on loopback: C reserves with relay R, B dials C through
/// R's circuit address, and a whole yamux connection with Noise end to end runs over the relayed stream.
@Suite struct CircuitRelayTests {
    /// A policy that lets `allowed` reserve and relays at most `budget` bytes for it.
    final class Budget: RelayPolicy, @unchecked Sendable {
        let allowed: PeerID
        let budget: Int
        private let used = NIOLockedValueBox(0)
        init(allowed: PeerID, budget: Int) {
            self.allowed = allowed
            self.budget = budget
        }
        var relayed: Int { used.withLockedValue { $0 } }
        func refusal(toReserveFor client: PeerID) async -> String? { client == allowed ? nil : "no forwarding contract" }
        func relay(for client: PeerID, bytes: Int) async -> Bool {
            used.withLockedValue { used in
                guard client == allowed, used + bytes <= budget else { return false }
                used += bytes
                return true
            }
        }
    }

    static func echo(_ swarm: Swarm) async {
        await swarm.handle("/test/echo/1.0.0") { stream in
            while let chunk = try await stream.readSome(max: 1 << 20) { try await stream.write(chunk) }
            await stream.close()
        }
    }

    static func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
        for _ in 0..<200 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    struct TestFailure: Error { let text: String; init(_ text: String) { self.text = text } }

    @Test func aPeerBehindARelayIsReachedThroughItsCircuitAddressAndEveryByteIsCounted() async throws {
        let r = try await SwarmTests.swarm(61), c = try await SwarmTests.swarm(62), b = try await SwarmTests.swarm(63)
        let policy = Budget(allowed: c.peerID, budget: 64 << 20)
        let relay = CircuitRelay(swarm: r, policy: policy)
        await relay.start()
        let counted = NIOLockedValueBox(0)
        let client = RelayClient(swarm: c, relays: [try #require(await r.addresses.first)]) { peer, bytes in
            if peer == r.peerID { counted.withLockedValue { $0 += bytes } }
        }
        await client.start()
        await Self.echo(c)
        // C advertises the circuit address once its reservation holds.
        try await Self.waitFor("C's circuit address") { await c.addresses.contains { $0.circuit != nil } }
        let circuit = try #require(await c.addresses.first { $0.circuit != nil })
        #expect(circuit.description.hasSuffix("/p2p/\(r.peerID)/p2p-circuit/p2p/\(c.peerID)"))
        #expect(await relay.current.map(\.client) == [c.peerID])

        // B knows only the circuit address; Noise proves it reached C itself.
        let peer = try await b.dial(circuit)
        #expect(peer == c.peerID)
        let stream = try await b.openStream(to: c.peerID, protocols: ["/test/echo/1.0.0"])
        var generator = SeededGenerator(seed: 7)
        let payload = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        async let sent: Void = { try await stream.write(payload); await stream.stream.close() }()
        var received: [UInt8] = []
        while let chunk = try await stream.readSome(max: 1 << 20) { received += chunk }
        try await sent
        let intact = received == payload
        #expect(intact, "\(received.count) of \(payload.count) bytes came back through the relay")
        // The relay saw only the ciphertext of both directions: more than the payload twice.
        #expect(policy.relayed > 2 * payload.count)
        // C counted the same raw bytes the relay admitted (both ends of the splice), once they settle.
        try await Self.waitFor("C's count to match the relay's") { counted.withLockedValue { $0 } == policy.relayed }
        await b.stop()
        await c.stop()
        await r.stop()
    }

    @Test func theRelayRefusesStrangersPeersWithoutAReservationAndCircuitsPastTheClientsCredit() async throws {
        let r = try await SwarmTests.swarm(64), c = try await SwarmTests.swarm(65), b = try await SwarmTests.swarm(66)
        let policy = Budget(allowed: c.peerID, budget: 256 << 10)
        let relay = CircuitRelay(swarm: r, policy: policy)
        await relay.start()
        let relayAddress = try #require(await r.addresses.first)
        // B holds no contract with R: its reservation is refused, and it advertises no circuit address.
        let stranger = RelayClient(swarm: b, relays: [relayAddress]) { _, _ in }
        await stranger.start()
        try await Self.waitFor("B's refusal") { await stranger.current.first?.refusal != nil }
        #expect(await stranger.current.first?.refusal?.contains("reservationRefused") == true)
        #expect(await b.addresses.allSatisfy { $0.circuit == nil })
        // A circuit to a peer that reserved nothing is refused with NO_RESERVATION.
        let toB = Multiaddr(components: relayAddress.components + [.circuit, .p2p(b.peerID)])
        await #expect(throws: (any Error).self) { try await c.dial(toB) }

        let client = RelayClient(swarm: c, relays: [relayAddress]) { _, _ in }
        await client.start()
        await Self.echo(c)
        try await Self.waitFor("C's circuit address") { await c.addresses.contains { $0.circuit != nil } }
        let circuit = try #require(await c.addresses.first { $0.circuit != nil })
        #expect(try await b.dial(circuit) == c.peerID)
        // 1 MiB is past C's 256 KiB of credit: the relay resets the circuit part way.
        let stream = try await b.openStream(to: c.peerID, protocols: ["/test/echo/1.0.0"])
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        async let sent: Void? = try? await { try await stream.write(payload); await stream.stream.close() }()
        var received = 0
        do { while let chunk = try await stream.readSome(max: 1 << 20) { received += chunk.count } } catch {}
        _ = await sent
        #expect(received < payload.count)
        #expect(policy.relayed <= 256 << 10)
        try await Self.waitFor("the relayed connection to end") { await !b.isConnected(c.peerID) }
        await b.stop()
        await c.stop()
        await r.stop()
    }

    @Test func circuitMessagesRoundTripAndHostileOnesAreRefused() throws {
        let peer = testKey(67).peerID
        let reserve = CircuitMessage(kind: .status, reservation: .init(expire: 1_800_000_000, addresses: [try Multiaddr("/ip4/10.0.0.1/tcp/4001")]),
                                     limit: .init(seconds: 120, bytes: 1 << 20), status: .ok)
        #expect(try CircuitMessage(bytes: reserve.bytes(stop: false), stop: false) == reserve)
        let connect = CircuitMessage(kind: .connect, peer: .init(id: peer))
        #expect(try CircuitMessage(bytes: connect.bytes(stop: true), stop: true) == connect)
        // Hop CONNECT is type 1; stop CONNECT is type 0 (the two enums differ).
        #expect(connect.bytes(stop: false).prefix(2) == [0x08, 0x01] && connect.bytes(stop: true).prefix(2) == [0x08, 0x00])
        #expect(throws: WireError.self) { try CircuitMessage(bytes: [0x08, 0x09], stop: false) }
        #expect(throws: WireError.self) { try CircuitMessage(bytes: [0x08, 0x02, 0x28, 0x07], stop: false) }
        #expect(throws: WireError.self) { try CircuitMessage(bytes: [0x08, 0x01, 0x12, 0x02, 0x0a, 0x09], stop: false) }
        #expect(throws: WireError.self) { try CircuitMessage(bytes: [], stop: true) }
        let text = "/ip4/10.0.0.1/tcp/4001/p2p/\(peer)/p2p-circuit/p2p/\(testKey(68).peerID)"
        let address = try Multiaddr(text)
        let decoded = try Multiaddr(bytes: address.bytes)
        #expect(address.description == text && decoded == address)
        #expect(address.peer == testKey(68).peerID && address.circuit?.relay.peer == peer && address.tcpEndpoint == nil)
        #expect(try Multiaddr("/ip4/10.0.0.1/tcp/4001/p2p/\(peer)/p2p-circuit").peer == nil)
    }
}
