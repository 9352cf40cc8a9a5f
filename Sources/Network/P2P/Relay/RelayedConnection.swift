import Foundation
import Ledger

/// Connections carried by a stream through a relay (circuit relay v2, specs/p2p.md §7.5): the dialer's
/// hop stream or the listener's stop stream becomes the raw connection, upgraded with Noise and yamux
/// exactly as a TCP socket is. Noise runs end to end: the relay sees only ciphertext.
extension Swarm {
    /// Dials `target` through `relay` (an address with the relay's /p2p): a hop CONNECT, then the upgrade
    /// as initiator over the stream, expecting `target`'s identity.
    func dial(through relay: Multiaddr, to target: PeerID) async throws -> PeerID {
        guard let relayPeer = relay.peer else { throw P2PError.dial("\(relay) names no relay peer") }
        guard target != peerID, relayPeer != target, relayPeer != peerID else { throw P2PError.dial("a circuit needs three different peers") }
        if isConnected(target) { return target }
        try await dial(relay)
        let stream = try await openStream(to: relayPeer, protocols: [CircuitMessage.hop])
        do {
            let answer = try await withDeadline(millis: config.deadlines.streamOpenMillis, "a circuit to \(target.short) through \(relayPeer.short)",
                                                expire: { await stream.reset() }) {
                try await stream.writeMessage(CircuitMessage(kind: .connect, peer: .init(id: target)).bytes(stop: false))
                return try CircuitMessage(bytes: try await stream.readMessage(max: CircuitMessage.sizeMax), stop: false)
            }
            guard answer.kind == .status, answer.status == .ok else {
                throw P2PError.dial("relay \(relayPeer.short) did not connect to \(target.short): \(answer.status.map { "\($0)" } ?? "no status")")
            }
        } catch {
            await stream.reset()
            throw error
        }
        let remote = Multiaddr(components: relay.components + [.circuit])
        let peer: PeerID = try await withCheckedThrowingContinuation { continuation in
            let once = Once(continuation)
            Task { await self.runRelayed(stream, outbound: true, expected: target, remote: remote, relay: relayPeer, onBytes: nil, ready: once) }
        }
        addressBook.add(peer, addresses: [remote.with(peer: peer)])
        return peer
    }

    /// A stop stream a relay opened for `initiator`: the upgrade as responder, counting through `onBytes`
    /// every raw byte that crosses the relay (what the relay bills).
    nonisolated func acceptRelayed(_ stream: P2PStream, from initiator: PeerID, via relay: Multiaddr, onBytes: @escaping @Sendable (Int) async -> Void) async {
        guard await beginHandshake() else {
            logger.debug("refused a relayed connection: limit reached", metadata: ["peer": "\(initiator.short)"])
            return await stream.reset()
        }
        let remote = Multiaddr(components: relay.components + [.circuit])
        await runRelayed(stream, outbound: false, expected: initiator, remote: remote, relay: stream.peer, onBytes: onBytes, ready: nil)
    }

    private nonisolated func runRelayed(_ stream: P2PStream, outbound: Bool, expected: PeerID, remote: Multiaddr, relay: PeerID,
                                        onBytes: (@Sendable (Int) async -> Void)?, ready: Once<PeerID>?) async {
        // The connection's own keepalive pings cross the stream; the idle limit of inbound streams does not apply.
        await stream.stream.limitIdle(millis: nil)
        let count: @Sendable (Int) async -> Void = onBytes ?? { _ in }
        let raw = BufferedReader {
            let chunk = try await stream.readSome(max: 1 << 16)
            if let chunk { await count(chunk.count) }
            return chunk
        }
        await upgrade(raw: raw, sink: StreamSink(stream: stream.stream, onBytes: count), abort: { await stream.reset() }, remote: remote,
                      host: "relay:\(relay)", outbound: outbound, expected: expected, ready: ready)
        await stream.reset()
    }
}
