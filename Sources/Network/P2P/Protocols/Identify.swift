import Ledger
import Foundation

/// libp2p identify (`/ipfs/id/1.0.0`): the responder writes one varint-prefixed Identify message
/// {1 public key, 2 listen addrs, 3 protocols, 4 observed addr, 5 protocol version, 6 agent} and closes.
/// Each side asks the other right after connecting; what it learns goes into the address book.
public enum Identify {
    public static let protocolID = "/ipfs/id/1.0.0"
    static let maxMessage = 64 * 1024

    public struct Info: Sendable {
        public var key: LibP2PKey
        public var listenAddresses: [Multiaddr]
        public var protocols: [String]
        public var observed: Multiaddr?
        public var agent: String
        public var protocolVersion: String
    }

    static func encode(_ info: Info) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.string(5, info.protocolVersion)
        writer.string(6, info.agent)
        writer.bytes(1, info.key.protobuf)
        for address in info.listenAddresses { writer.bytes(2, address.transport.bytes) }
        if let observed = info.observed { writer.bytes(4, observed.transport.bytes) }
        for name in info.protocols { writer.string(3, name) }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(WireError) -> Info {
        let message = try ProtobufMessage(bytes)
        guard let keyBytes = message.bytes(1) else { throw .malformed("identify without a public key") }
        return Info(
            key: try LibP2PKey(protobuf: keyBytes),
            listenAddresses: message.allBytes(2).prefix(32).compactMap { try? Multiaddr(bytes: $0) },
            protocols: message.allBytes(3).prefix(128).map { String(decoding: $0, as: UTF8.self) },
            observed: message.bytes(4).flatMap { try? Multiaddr(bytes: $0) },
            agent: message.string(6) ?? "",
            protocolVersion: message.string(5) ?? "")
    }
}

extension Swarm {
    /// Registers identify and ping; called once by the owner before listening.
    public func registerCoreProtocols() {
        handle(Identify.protocolID) { [weak self] stream in
            guard let self else { return }
            let remote = await self.connectedPeers.first { $0.peer == stream.peer }?.remote
            let info = Identify.Info(key: identity.libp2pKey, listenAddresses: await addresses, protocols: await protocols,
                                     observed: remote, agent: config.agent, protocolVersion: "ipfs/0.1.0")
            try await stream.writeMessage(Identify.encode(info))
            await stream.close()
        }
        handle(Ping.protocolID) { stream in try await Ping.serve(stream) }
    }

    /// Asks a newly connected peer who it is; records its addresses and protocols.
    func identify(_ peer: PeerID, observed: Multiaddr) async {
        let stream: P2PStream
        do { stream = try await openStream(to: peer, protocols: [Identify.protocolID]) } catch {
            // The connection went away, or the peer does not speak identify: not a violation.
            logger.debug("identify failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
            addressBook.add(peer, addresses: [], seen: true)
            return await identified(peer)
        }
        do {
            let message = try await withDeadline(millis: config.deadlines.identifyMillis, "identify of \(peer.short)", expire: { await stream.reset() }) {
                try await stream.readMessage(max: Identify.maxMessage)
            }
            let info = try Identify.decode(message)
            await stream.close()
            guard PeerID(key: info.key) == peer else { throw WireError.malformed("identify key is not the connection's identity") }
            addressBook.add(peer, addresses: info.listenAddresses, protocols: info.protocols, agent: info.agent, seen: true)
            logger.debug("identified", metadata: ["peer": "\(peer.short)"])
        } catch let error as WireError where error != .closed {
            await ban(peer, reason: "identify: \(error)")
            return
        } catch {
            logger.debug("identify failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
            addressBook.add(peer, addresses: [], seen: true)
        }
        await identified(peer)
    }
}

/// libp2p ping (`/ipfs/ping/1.0.0`): 32 random bytes, echoed back, repeatedly on one stream.
public enum Ping {
    public static let protocolID = "/ipfs/ping/1.0.0"

    static func serve(_ stream: P2PStream) async throws {
        for _ in 0..<1024 {
            guard let first = try await stream.readSome(max: 32) else { break }
            let rest = first.count < 32 ? try await stream.readExactly(32 - first.count) : []
            try await stream.write(first + rest)
        }
        await stream.close()
    }

    /// Round-trip time to a peer.
    public static func ping(_ peer: PeerID, swarm: Swarm) async throws -> Duration {
        let stream = try await swarm.openStream(to: peer, protocols: [protocolID])
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let start = ContinuousClock.now
        try await stream.write(payload)
        let echo = try await stream.readExactly(32)
        let elapsed = ContinuousClock.now - start
        await stream.close()
        guard echo == payload else { throw WireError.malformed("ping echo differs") }
        return elapsed
    }
}
