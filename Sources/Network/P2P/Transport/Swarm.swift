import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// This node's libp2p host: listens on TCP, dials peers, upgrades every connection (multistream-select →
/// Noise XX → yamux, specs/p2p.md), runs identify on it, and hands negotiated streams to the protocol
/// handlers registered with `handle`.
public actor Swarm {
    public struct Config: Sendable {
        public var listenHost = "0.0.0.0"
        public var listenPort = 7650
        /// Addresses to advertise instead of the listen address (behind NAT or a port forward).
        public var external: [Multiaddr] = []
        public var agent = "ledgerd"
        public var limits = PeerGuard.Limits()
        public var addressBookPath: String?
        public var handshakeTimeout: Duration = .seconds(10)
        /// How long to wait for a peer, per request (Deadlines.swift).
        public var deadlines = Deadlines()
        /// Connections this node dials, at most (established plus being dialed). At the bound, the outbound
        /// connection idle longest is closed to make room; with none idle, the dial is refused.
        public var maxOutbound = Swarm.outboundConnectionsMax
        /// Every connection is pinged (yamux ping) this often; one that does not answer within
        /// `deadlines.keepaliveMillis` is dead and closed.
        public var keepaliveIntervalMillis = Swarm.keepaliveIntervalMillisMax
        /// An outbound connection without a stream for this long is closed (inbound ones are the dialer's to
        /// close), while more than `idleKeepConnections` connections are open: the node keeps that many
        /// (P2PService's target) even when quiet, so a calm network does not flap.
        public var idleOutboundMillis = Swarm.idleOutboundMillisMax
        public var idleKeepConnections = Swarm.idleKeepConnectionsMin
        public init() {}

        /// Listening on a free loopback port: for nodes made in tests and benchmarks.
        public static var loopback: Config {
            var config = Config()
            config.listenHost = "127.0.0.1"
            config.listenPort = 0
            return config
        }
    }

    public typealias Handler = @Sendable (P2PStream) async throws -> Void

    public static let outboundConnectionsMax = 128
    public static let keepaliveIntervalMillisMax = 15_000
    public static let idleOutboundMillisMax = 120_000
    public static let idleKeepConnectionsMin = 8

    public struct ConnectionInfo: Sendable {
        public let peer: PeerID
        public let remote: Multiaddr
        public let outbound: Bool
        public let opened: Date
        let session: YamuxSession
    }

    public nonisolated let identity: SecretKey
    public nonisolated let peerID: PeerID
    public nonisolated let traffic = TrafficStats()
    public nonisolated let peerGuard: PeerGuard
    public nonisolated let addressBook: AddressBook
    nonisolated let config: Config
    nonisolated let logger: Logger
    private let group = MultiThreadedEventLoopGroup.singleton

    private var handlers: [String: Handler] = [:]
    private var connections: [PeerID: [ConnectionInfo]] = [:]
    /// Inbound connections still in their handshake: they count against the connection limit too, so
    /// a flood of half-open connections cannot grow memory past it.
    private var handshaking = 0
    /// Outbound connections being dialed (they count against `maxOutbound`).
    private var dialing = 0
    private var maintenanceTask: Task<Void, Never>?
    private var listening: [Multiaddr] = []
    private var serverChannel: Channel?
    private var serverTask: Task<Void, Never>?
    private var acceptedContinuation: AsyncStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>.Continuation?
    private var connectedObservers: [@Sendable (PeerID, Bool) async -> Void] = []

    public init(identity: SecretKey, config: Config = Config(), logger: Logger = .quiet("ledgerd.p2p")) {
        self.identity = identity
        peerID = identity.peerID
        self.config = config
        self.logger = logger
        peerGuard = PeerGuard(limits: config.limits)
        addressBook = AddressBook(path: config.addressBookPath)
    }

    // MARK: - Protocols

    public func handle(_ protocolName: String, _ handler: @escaping Handler) { handlers[protocolName] = handler }
    func handler(for name: String) -> Handler? { handlers[name] }
    public var protocols: [String] { handlers.keys.sorted() }

    /// Called with (peer, true) when a connection is identified and (peer, false) when its last connection ends.
    public func observeConnections(_ observer: @escaping @Sendable (PeerID, Bool) async -> Void) { connectedObservers.append(observer) }

    // MARK: - Addresses

    /// The addresses peers should dial, with /p2p/<our ID>.
    public var addresses: [Multiaddr] {
        let base = config.external.isEmpty ? listening : config.external
        return base.map { $0.with(peer: peerID) } + relayed.map { $0.with(peer: peerID) }
    }

    /// Circuit addresses (`<relay>/p2p/R/p2p-circuit`) of relays that hold a reservation for this node.
    private var relayed: [Multiaddr] = []
    func setRelayAddresses(_ addresses: [Multiaddr]) { relayed = addresses }

    public var listenAddresses: [Multiaddr] { listening.map { $0.with(peer: peerID) } }

    /// Starts listening; returns the bound addresses (port 0 picks a free port).
    @discardableResult
    public func listen() async throws -> [Multiaddr] {
        // Accepted connections reach us through our own stream rather than NIO's async server channel: NIO
        // stops the process when an accepted async channel is dropped unfinished, which its server channel
        // does to connections that arrive while it closes. Here every connection is either queued or
        // closed properly on the spot.
        let (accepted, continuation) = AsyncStream.makeStream(of: NIOAsyncChannel<ByteBuffer, ByteBuffer>.self, bufferingPolicy: .bufferingOldest(256))
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    switch continuation.yield(connection) {
                    case .enqueued: break
                    case .dropped, .terminated: Task { await Self.refuse(connection) }
                    @unknown default: Task { await Self.refuse(connection) }
                    }
                }
            }
            .bind(host: config.listenHost, port: config.listenPort).get()
        serverChannel = server
        acceptedContinuation = continuation
        let port = server.localAddress?.port ?? config.listenPort
        var host = config.listenHost
        if host == "0.0.0.0" { host = "127.0.0.1" }
        listening = [Multiaddr(host: host, port: port)]
        serverTask = Task { [weak self] in
            await withDiscardingTaskGroup { group in
                for await connection in accepted {
                    guard let self else {
                        await Self.refuse(connection)
                        continue
                    }
                    group.addTask { await self.accept(connection) }
                }
            }
        }
        maintenanceTask = Task { [weak self] in await self?.maintain() }
        logger.info("p2p listening", metadata: ["addresses": "\(addresses.map(\.description))"])
        return listening
    }

    // MARK: - Keepalive and idle connections

    /// Every `keepaliveIntervalMillis`: closes idle outbound connections and pings every connection,
    /// closing those that do not answer in time.
    private func maintain() async {
        while !isStopping && !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(config.keepaliveIntervalMillis)) } catch { return }
            if isStopping { return }
            let all = connections.values.flatMap { $0 }
            let idle = all.filter(\.outbound).compactMap { info in info.session.idleFor.map { (info, $0) } }
                .filter { $0.1 > .milliseconds(config.idleOutboundMillis) }.sorted { $0.1 > $1.1 }
            var open = all.count
            for (info, _) in idle where open > config.idleKeepConnections {
                logger.debug("closing an idle connection", metadata: ["peer": "\(info.peer.short)"])
                await closeConnection(info)
                open -= 1
            }
            let millis = config.deadlines.keepaliveMillis
            let dead = await withTaskGroup(of: ConnectionInfo?.self) { group in
                for info in all where !info.session.isClosed {
                    group.addTask { await info.session.ping(millis: millis) ? nil : info }
                }
                var dead: [ConnectionInfo] = []
                for await info in group { if let info { dead.append(info) } }
                return dead
            }
            for info in dead where !info.session.isClosed {
                logger.info("peer did not answer the keepalive ping; closing", metadata: ["peer": "\(info.peer.short)"])
                await closeConnection(info)
            }
        }
    }

    /// Closes one connection now, telling the observers if it was the peer's last.
    private func closeConnection(_ info: ConnectionInfo) async {
        if var list = connections[info.peer] {
            list.removeAll { $0.session === info.session }
            connections[info.peer] = list.isEmpty ? nil : list
            if list.isEmpty { for observer in connectedObservers { await observer(info.peer, false) } }
        }
        await info.session.close()
    }

    private var outboundCount: Int { connections.values.reduce(0) { $0 + $1.filter(\.outbound).count } + dialing }

    /// Room for one more outbound connection: closes the one idle longest when at the bound.
    private func reserveOutbound() async throws {
        if outboundCount >= config.maxOutbound {
            let idle = connections.values.flatMap { $0 }.filter(\.outbound).compactMap { info in info.session.idleFor.map { (info, $0) } }
            guard let (oldest, _) = idle.max(by: { $0.1 < $1.1 }) else {
                throw P2PError.limit("\(config.maxOutbound) outbound connections, none idle")
            }
            await closeConnection(oldest)
        }
        dialing += 1
    }

    private nonisolated func accept(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let host = channel.channel.remoteAddress?.ipAddress ?? "?"
        if await isStopping || peerGuard.hostRefused(host) { return await Self.refuse(channel) }
        guard await beginHandshake() else {
            logger.debug("refused a connection: limit reached", metadata: ["host": "\(host)"])
            return await Self.refuse(channel)
        }
        await run(channel, outbound: false, expected: nil, ready: nil)
    }

    /// Closes a connection we will not serve. Through executeThenClose, never channel.close() alone: an
    /// async channel whose writer is dropped unfinished stops the process.
    private static func refuse(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await channel.executeThenClose { _, _ in }
    }

    func beginHandshake() -> Bool {
        guard connectionCount + handshaking < config.limits.maxConnections else { return false }
        handshaking += 1
        return true
    }

    func endHandshake() { handshaking -= 1 }

    private var isStopping = false

    public func stop() async {
        isStopping = true
        maintenanceTask?.cancel()
        try? await serverChannel?.close()
        acceptedContinuation?.finish()  // connections already queued are still refused properly
        for info in connections.values.flatMap({ $0 }) { await info.session.close() }
        connections = [:]
        addressBook.save()
    }

    // MARK: - Dialing

    /// Connects to a multiaddr (its /p2p component, if present, must match the peer's proven identity).
    @discardableResult
    public func dial(_ address: Multiaddr) async throws -> PeerID {
        if let expected = address.peer {
            if expected == peerID { throw P2PError.dial("that is this node's own address") }
            if let reason = peerGuard.banReason(expected) { throw P2PError.banned("\(expected) (\(reason))") }
            if connections[expected]?.isEmpty == false { return expected }
        }
        if let circuit = address.circuit {
            guard let target = circuit.target else { throw P2PError.dial("\(address) names no peer behind the relay") }
            return try await dial(through: circuit.relay, to: target)
        }
        guard let (host, port) = address.tcpEndpoint else { throw P2PError.dial("\(address) has no TCP address") }
        try await reserveOutbound()
        defer { dialing -= 1 }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            throw P2PError.dial("\(address): \(error)")
        }
        let peer: PeerID = try await withCheckedThrowingContinuation { continuation in
            let once = Once(continuation)
            Task { await self.run(channel, outbound: true, expected: address.peer, ready: once) }
        }
        addressBook.add(peer, addresses: [address])
        return peer
    }

    /// Connects to a known peer through its address book entries.
    public func connect(to peer: PeerID) async throws {
        if connections[peer]?.isEmpty == false { return }
        var lastError: Error = P2PError.dial("no known address for \(peer)")
        for address in addressBook.addresses(of: peer) {
            do {
                try await dial(address.with(peer: peer))
                return
            } catch { lastError = error }
        }
        throw lastError
    }

    /// Opens a stream to `peer` for the first protocol in `protocols` it supports, dialing if needed.
    public nonisolated func openStream(to peer: PeerID, protocols: [String]) async throws -> P2PStream {
        try await connect(to: peer)
        guard let session = await session(for: peer) else { throw P2PError.notConnected(peer) }
        let stream = try await session.open()
        let reader = BufferedReader { try await stream.read() }
        do {
            let chosen = try await withDeadline(millis: config.deadlines.streamOpenMillis, "opening \(protocols.first ?? "a stream") to \(peer.short)",
                                                expire: { await stream.reset() }) {
                try await Multistream.select(protocols, reader: reader) { try await stream.write($0) }
            }
            await stream.setProtocol(chosen)
            traffic.reattribute(peer: peer, received: reader.buffered, from: "negotiating", to: chosen)
            return P2PStream(stream: stream, reader: reader, protocolName: chosen)
        } catch {
            await stream.reset()
            throw error
        }
    }

    public func disconnect(_ peer: PeerID) async -> Bool {
        guard let list = connections.removeValue(forKey: peer) else { return false }
        for info in list { await info.session.close() }
        for observer in connectedObservers { await observer(peer, false) }
        return true
    }

    /// Bans a peer (dropping its connections) for the configured time.
    public func ban(_ peer: PeerID, reason: String) async {
        peerGuard.ban(peer, reason: reason)
        logger.warning("banned peer", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        _ = await disconnect(peer)
    }

    // MARK: - Connections

    public var connectedPeers: [ConnectionInfo] { connections.values.compactMap(\.first).sorted { $0.peer < $1.peer } }
    public var connectionCount: Int { connections.values.reduce(0) { $0 + $1.count } }
    public func isConnected(_ peer: PeerID) -> Bool { connections[peer]?.isEmpty == false }
    func session(for peer: PeerID) -> YamuxSession? { connections[peer]?.last?.session }

    private func register(_ info: ConnectionInfo) async -> Bool {
        if let reason = peerGuard.banReason(info.peer) {
            logger.debug("refused banned peer", metadata: ["peer": "\(info.peer)", "reason": "\(reason)"])
            return false
        }
        let isNew = connections[info.peer]?.isEmpty ?? true
        connections[info.peer, default: []].append(info)
        if isNew { logger.info("peer connected", metadata: ["peer": "\(info.peer)", "address": "\(info.remote)", "outbound": "\(info.outbound)"]) }
        return true
    }

    private func unregister(_ session: YamuxSession, peer: PeerID) async {
        guard var list = connections[peer] else { return }
        list.removeAll { $0.session === session }
        connections[peer] = list.isEmpty ? nil : list
        if list.isEmpty {
            logger.info("peer disconnected", metadata: ["peer": "\(peer)"])
            for observer in connectedObservers { await observer(peer, false) }
        }
    }

    func identified(_ peer: PeerID) async {
        for observer in connectedObservers { await observer(peer, true) }
    }

    /// One TCP connection from its socket to its end.
    private nonisolated func run(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, outbound: Bool, expected: PeerID?, ready: Once<PeerID>?) async {
        let remoteAddress = channel.channel.remoteAddress
        let host = remoteAddress?.ipAddress ?? "?"
        let remote = Multiaddr(host: host, port: remoteAddress?.port ?? 0)
        let nioChannel = channel.channel
        do {
            try await channel.executeThenClose { inbound, outboundWriter in
                var iterator = inbound.makeAsyncIterator()
                let raw = BufferedReader {
                    guard let buffer = try await iterator.next() else { return nil }
                    return Array(buffer: buffer)
                }
                await upgrade(raw: raw, sink: outboundWriter, abort: { try? await nioChannel.close() }, remote: remote, host: host,
                              outbound: outbound, expected: expected, ready: ready)
            }
        } catch {
            ready?.resume(throwing: error)
        }
    }

    /// One connection from raw bytes to its end: upgrade (multistream-select, Noise, yamux), register,
    /// serve streams, clean up. The bytes come from a TCP socket or from a stream through a relay; `abort`
    /// ends the raw connection, which ends every read.
    nonisolated func upgrade(raw: BufferedReader, sink: any RawSink, abort: @escaping @Sendable () async -> Void, remote: Multiaddr, host: String,
                             outbound: Bool, expected: PeerID?, ready: Once<PeerID>?) async {
        // A handshake that stalls is cut off.
        let timeout = Task {
            try await Task.sleep(for: config.handshakeTimeout)
            await abort()
        }
        var authenticated: PeerID?
        var handshakeEnded = outbound
        do {
            let writeRaw: ([UInt8]) async throws -> Void = { try await sink.write(ByteBuffer(bytes: $0)) }
            let security = ["/noise"]
            if outbound {
                _ = try await Multistream.select(security, reader: raw, write: writeRaw)
            } else {
                _ = try await Multistream.handle(Set(security), reader: raw, write: writeRaw)
            }
            let secured = try await SecureChannel.handshake(initiator: outbound, identity: identity, expected: expected, reader: raw, write: writeRaw)
            let peer = secured.peer
            authenticated = peer
            let traffic = self.traffic
            let source = NoiseFrameSource(raw: raw, cipher: secured.receive) { traffic.record(peer: peer, protocolName: "transport", received: $0, sent: 0) }
            let secure = BufferedReader { try await source.next() }
            let writer = SecureWriter(outbound: sink, cipher: secured.send) { traffic.record(peer: peer, protocolName: "transport", received: 0, sent: $0) }
            let writeSecure: ([UInt8]) async throws -> Void = { try await writer.write($0) }
            let muxers = ["/yamux/1.0.0"]
            if outbound {
                _ = try await Multistream.select(muxers, reader: secure, write: writeSecure)
            } else {
                _ = try await Multistream.handle(Set(muxers), reader: secure, write: writeSecure)
            }
            timeout.cancel()
            if !outbound { await endHandshake(); handshakeEnded = true }
            let session = YamuxSession(peer: peer, writer: writer, isClient: outbound,
                                       accounting: { traffic.record(peer: peer, protocolName: $0, received: $1, sent: $2) },
                                       onInbound: { stream in Task { await self.serve(stream) } })
            let info = ConnectionInfo(peer: peer, remote: remote.with(peer: peer), outbound: outbound, opened: Date(), session: session)
            guard await register(info) else {
                ready?.resume(throwing: P2PError.banned(peer.description))
                await session.close()
                return
            }
            ready?.resume(returning: peer)
            Task { await self.identify(peer, observed: remote) }
            do {
                try await session.run(reader: secure)
            } catch let error as WireError where error != .closed {
                await self.ban(peer, reason: error.description)
            } catch {
                logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
            }
            await session.shutdown()
            await unregister(session, peer: peer)
        } catch {
            timeout.cancel()
            if !handshakeEnded { await endHandshake() }
            ready?.resume(throwing: error)
            if authenticated == nil {
                peerGuard.handshakeFailed(host: host)
                logger.debug("handshake failed", metadata: ["host": "\(host)", "error": "\(error)"])
            }
        }
    }

    /// An inbound stream: negotiate its protocol (with a deadline), check the peer's rate, run the handler.
    private nonisolated func serve(_ stream: YamuxStream) async {
        guard peerGuard.allowStream(from: stream.peer) else {
            await stream.reset()
            return
        }
        await stream.limitIdle(millis: config.deadlines.inboundIdleMillis)
        let reader = BufferedReader { try await stream.read() }
        let supported = Set(await protocols)
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            await stream.reset()
        }
        do {
            let chosen = try await Multistream.handle(supported, reader: reader) { try await stream.write($0) }
            deadline.cancel()
            await stream.setProtocol(chosen)
            traffic.reattribute(peer: stream.peer, received: reader.buffered, from: "negotiating", to: chosen)
            guard let handler = await handler(for: chosen) else { return await stream.reset() }
            try await handler(P2PStream(stream: stream, reader: reader, protocolName: chosen))
        } catch let error as WireError where error != .closed {
            deadline.cancel()
            await stream.reset()
            await ban(stream.peer, reason: "\(error)")
        } catch {
            deadline.cancel()
            await stream.reset()
        }
    }
}

/// Resumes a continuation exactly once (the connection task reports success or failure, not both).
final class Once<Value: Sendable>: Sendable {
    private let continuation: NIOLockedValueBox<CheckedContinuation<Value, Error>?>

    init(_ continuation: CheckedContinuation<Value, Error>) { self.continuation = NIOLockedValueBox(continuation) }

    func resume(returning value: Value) { take()?.resume(returning: value) }
    func resume(throwing error: Error) { take()?.resume(throwing: error) }

    private func take() -> CheckedContinuation<Value, Error>? {
        continuation.withLockedValue { taken in
            defer { taken = nil }
            return taken
        }
    }
}

extension Logger {
    /// Warnings and errors only: the default for swarms made in tests and benchmarks (the daemon passes its own).
    public static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}
