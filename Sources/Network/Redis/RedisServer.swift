import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Storage

/// The database MiMei over RESP on a loopback port (`ledgerd run --redis 127.0.0.1:6390`; specs/content.md
/// §Database MiMei), so that `redis-cli` and any Redis client work against it. One Redis database number
/// per database MiMei (`SELECT n`). Every connection authenticates first: `AUTH <admin cookie>` may read
/// and write every database, `AUTH <capability>` (a MiMei capability's hex, a bearer one) may read that
/// MiMei's database only. Commands are answered in order; a client may pipeline them.
public struct RedisServer: Service {
    let host: String
    let port: Int
    let databases: DatabaseHost
    let store: MiMeiStore
    let adminToken: String
    let pulseMillis: UInt64
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    /// Open connections at most, and bytes a client may have sent without completing a command.
    static let connectionsMax = 1_024
    static let pendingBytesMax = 64 << 20
    /// Unparsed input a client that has not authenticated may hold.
    static let unauthenticatedBytesMax = 16 << 10
    static let replyBytesFlush = 1 << 20
    /// Commands a transaction may queue.
    static let queuedMax = 10_000

    public init(host: String, port: Int, databases: DatabaseHost, store: MiMeiStore, adminToken: String, pulseMillis: UInt64, logger: Logger,
                onListening: @escaping @Sendable (Int) -> Void) {
        self.host = host
        self.port = port
        self.databases = databases
        self.store = store
        self.adminToken = adminToken
        self.pulseMillis = pulseMillis
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let (accepted, continuation) = AsyncStream.makeStream(of: NIOAsyncChannel<ByteBuffer, ByteBuffer>.self, bufferingPolicy: .bufferingOldest(256))
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        if case .enqueued = continuation.yield(connection) { return }
                        Task { try? await connection.executeThenClose { _, _ in } }
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw RedisFailure("cannot listen for Redis clients on \(host):\(port): \(error); pick another with --redis host:port")
        }
        onListening(server.localAddress?.port ?? port)
        logger.info("redis listening", metadata: ["address": "\(host):\(server.localAddress?.port ?? port)"])
        let databases = self.databases, pulse = Duration.milliseconds(Int64(pulseMillis))
        await withDiscardingTaskGroup { group in
            // The pulse's commit: each database's writes since the last become its next version.
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pulse) } } catch { break }
                    await databases.commitAll()
                }
                await databases.commitAll()
            }
            group.addTask {
                let open = NIOLockedValueBox(0)
                await withDiscardingTaskGroup { connections in
                    for await connection in accepted.cancelOnGracefulShutdown() {
                        let admitted = open.withLockedValue { count in
                            guard count < Self.connectionsMax else { return false }
                            count += 1
                            return true
                        }
                        guard admitted else {
                            connections.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        connections.addTask {
                            // Clients are let go at shutdown, after the last commit.
                            await cancelWhenGracefulShutdown { await self.serve(connection) }
                            open.withLockedValue { $0 -= 1 }
                        }
                    }
                }
            }
            try? await gracefulShutdown()
            continuation.finish()
            try? await server.close()
        }
    }

    struct RedisFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// One client's connection state.
    struct Session {
        enum Role { case none, owner, reader(ID) }
        var role = Role.none
        var database = 0
        var queued: [(String, [[UInt8]])]?
        var quit = false
    }

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var session = Session(), pending: [UInt8] = [], start = 0
            for try await buffer in inbound {
                pending += Array(buffer: buffer)
                var replies: [UInt8] = []
                while !session.quit {
                    let parsed: (arguments: [[UInt8]], next: Int)?
                    do { parsed = try RESP.parseCommand(pending, from: start) } catch {
                        // As Redis does: say what was wrong, then close.
                        RESP.error("ERR \(error)").encode(into: &replies)
                        session.quit = true
                        break
                    }
                    guard let (arguments, next) = parsed else { break }
                    start = next
                    guard let first = arguments.first else { continue }
                    let name = String(decoding: first, as: UTF8.self).lowercased()
                    // A browser made to post to this port (Redis closes on these too).
                    if name == "post" || name == "host:" {
                        session.quit = true
                        break
                    }
                    let reply = await handle(name, Array(arguments.dropFirst()), &session)
                    reply.encode(into: &replies)
                    // Replies go out as they pile up, not all at the end of a long pipeline.
                    if replies.count >= Self.replyBytesFlush {
                        try await outbound.write(ByteBuffer(bytes: replies))
                        replies.removeAll(keepingCapacity: true)
                    }
                }
                if start > 0 {
                    pending.removeFirst(start)
                    start = 0
                }
                if !replies.isEmpty { try await outbound.write(ByteBuffer(bytes: replies)) }
                if session.quit { return }
                // Before AUTH a client is a stranger: a few short arguments at most.
                let limit = if case .none = session.role { Self.unauthenticatedBytesMax } else { Self.pendingBytesMax }
                if pending.count > limit {
                    try await outbound.write(ByteBuffer(bytes: RESP.error("ERR Protocol error: the command is too large").encoded))
                    return
                }
            }
        }
    }

    /// Connection commands here; the rest go to the selected database.
    func handle(_ name: String, _ arguments: [[UInt8]], _ session: inout Session) async -> RESP {
        switch name {
        case "ping":
            guard arguments.count <= 1 else { return KeyValueDatabase.wrongArguments(name) }
            return arguments.first.map { .bulk($0) } ?? .simple("PONG")
        case "quit":
            session.quit = true
            return .ok
        case "auth":
            guard (1...2).contains(arguments.count) else { return KeyValueDatabase.wrongArguments(name) }
            guard let role = authenticate(String(decoding: arguments[arguments.count - 1], as: UTF8.self)) else {
                return .error("WRONGPASS invalid username-password pair or user is disabled.")
            }
            session.role = role
            return .ok
        default: break
        }
        guard case .owner = session.role else {
            guard case .reader(let granted) = session.role else { return .error("NOAUTH Authentication required.") }
            return await reader(name, arguments, granted, &session)
        }
        return await command(name, arguments, &session, canWrite: true)
    }

    /// A reader holds one capability: it may select that MiMei's database and read it.
    func reader(_ name: String, _ arguments: [[UInt8]], _ granted: ID, _ session: inout Session) async -> RESP {
        if name == "select" {
            guard arguments.count == 1, let number = Int(String(decoding: arguments[0], as: UTF8.self)) else {
                return arguments.count == 1 ? .error("ERR value is not an integer or out of range") : KeyValueDatabase.wrongArguments(name)
            }
            guard (try? await databases.database(number: number)) == granted else { return .error("NOPERM this capability is for another database") }
            session.database = number
            return .ok
        }
        guard (try? await databases.database(number: session.database)) == granted else {
            return .error("NOPERM this capability is for another database; SELECT its number first")
        }
        return await command(name, arguments, &session, canWrite: false)
    }

    func command(_ name: String, _ arguments: [[UInt8]], _ session: inout Session, canWrite: Bool) async -> RESP {
        if session.queued != nil, !["exec", "discard", "multi"].contains(name) {
            guard KeyValueDatabase.commands.contains(name) else { return unknown(name, arguments) }
            guard (session.queued?.count ?? 0) < Self.queuedMax else {
                session.queued = nil
                return .error("ERR a transaction queues at most \(Self.queuedMax) commands; it is discarded")
            }
            guard canWrite || KeyValueDatabase.readOnly.contains(name) else { return .error("NOPERM this user has no permissions to run the '\(name)' command") }
            session.queued?.append((name, arguments))
            return .simple("QUEUED")
        }
        switch name {
        case "select":
            guard arguments.count == 1 else { return KeyValueDatabase.wrongArguments(name) }
            guard let number = Int(String(decoding: arguments[0], as: UTF8.self)) else { return .error("ERR value is not an integer or out of range") }
            guard (try? await databases.database(number: number)) != nil else { return .error("ERR DB index is out of range") }
            session.database = number
            return .ok
        case "multi":
            guard session.queued == nil else { return .error("ERR MULTI calls can not be nested") }
            session.queued = []
            return .ok
        case "discard":
            guard session.queued != nil else { return .error("ERR DISCARD without MULTI") }
            session.queued = nil
            return .ok
        case "exec":
            guard let queued = session.queued else { return .error("ERR EXEC without MULTI") }
            session.queued = nil
            let id: ID
            do { id = try await databases.database(number: session.database) } catch { return .error("\(error)") }
            // One version of its own, with nothing from other clients in between.
            return .array(await databases.transaction(id, queued, canWrite: canWrite))
        case "echo":
            return arguments.count == 1 ? .bulk(arguments[0]) : KeyValueDatabase.wrongArguments(name)
        case "client", "config", "command", "info", "hello", "readonly", "readwrite":
            return meta(name, arguments)
        default:
            guard KeyValueDatabase.commands.contains(name) else { return unknown(name, arguments) }
            let id: ID
            do { id = try await databases.database(number: session.database) } catch { return .error("\(error)") }
            return await databases.execute(id, name, arguments, canWrite: canWrite)
        }
    }

    /// What clients ask on connecting: enough for redis-cli and redis-benchmark to go on.
    func meta(_ name: String, _ arguments: [[UInt8]]) -> RESP {
        switch name {
        case "config", "command": return .array([])
        case "info": return .bulk("# Server\r\nredis_version:7.0.0\r\nledgerd_database_mimei:1\r\n")
        case "hello": return .error("NOPROTO this server speaks RESP2 only")
        default: return .ok
        }
    }

    func unknown(_ name: String, _ arguments: [[UInt8]]) -> RESP {
        let shown = arguments.prefix(16).map { "'\(String(decoding: $0.prefix(128), as: UTF8.self))' " }.joined()
        return .error("ERR unknown command '\(name.prefix(128))', with args beginning with: \(shown)")
    }

    /// The admin cookie, or a bearer capability for a database MiMei held here.
    func authenticate(_ password: String) -> Session.Role? {
        if AdminToken.authenticates("Bearer " + password, token: adminToken) { return .owner }
        guard let bytes = Hex.decode(password), let capability = try? MiMeiCapability(encoded: bytes), capability.reader.isEmpty,
              let mimei = try? store.mimei(capability.mimei), mimei.kind == .database,
              (try? capability.check(mimei, reader: [], now: UInt64(Date().timeIntervalSince1970 * 1000))) != nil else { return nil }
        return .reader(mimei.id)
    }
}
