import NIOConcurrencyHelpers

/// yamux framing (github.com/hashicorp/yamux spec.md, as libp2p uses it under `/yamux/1.0.0`): a
/// 12-byte header {version 0, type, flags, stream ID, length}, all big-endian.
struct YamuxHeader: Equatable {
    enum Kind: UInt8 { case data = 0, windowUpdate = 1, ping = 2, goAway = 3 }
    struct Flags: OptionSet, Equatable {
        let rawValue: UInt16
        static let syn = Flags(rawValue: 1), ack = Flags(rawValue: 2), fin = Flags(rawValue: 4), rst = Flags(rawValue: 8)
    }

    static let size = 12
    /// The window every stream starts with (yamux's default), and the most a peer may send unread.
    static let initialWindow = 256 * 1024
    /// The window this node grants each stream right away (with the SYN or the ACK), as go-yamux does: with
    /// only 256 KiB a fast sender waits for window updates even on loopback.
    static let receiveWindow = 1024 * 1024
    /// Data per frame: one frame fits one Noise frame with its header.
    static let maxFrameData = NoiseCipher.maxPlaintext - size

    var kind: Kind
    var flags: Flags
    var stream: UInt32
    var length: UInt32

    var bytes: [UInt8] {
        [0, kind.rawValue, UInt8(flags.rawValue >> 8), UInt8(flags.rawValue & 0xff)]
            + withUnsafeBytes(of: stream.bigEndian, Array.init) + withUnsafeBytes(of: length.bigEndian, Array.init)
    }

    init(kind: Kind, flags: Flags = [], stream: UInt32, length: UInt32) {
        self.kind = kind
        self.flags = flags
        self.stream = stream
        self.length = length
    }

    init(_ bytes: [UInt8]) throws(WireError) {
        guard bytes.count == Self.size else { throw .malformed("yamux header of \(bytes.count) bytes") }
        guard bytes[0] == 0 else { throw .malformed("yamux version \(bytes[0])") }
        guard let kind = Kind(rawValue: bytes[1]) else { throw .malformed("yamux frame type \(bytes[1])") }
        self.kind = kind
        flags = Flags(rawValue: UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
        stream = bytes[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        length = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

public enum YamuxError: Error, CustomStringConvertible {
    case reset, closed, sessionClosed
    public var description: String {
        switch self {
        case .reset: "stream reset by the peer"
        case .closed: "stream closed for writing"
        case .sessionClosed: "connection closed"
        }
    }
}

/// One multiplexed stream. Reads return chunks in order (nil at the peer's FIN); writes wait for the
/// peer's window, so a slow reader slows its writer instead of filling memory.
public actor YamuxStream {
    public nonisolated let id: UInt32
    public nonisolated let peer: PeerID
    private let session: YamuxSession
    public private(set) var protocolName = ""

    private var inbound: [[UInt8]] = []
    private var inboundHead = 0
    private var receiveWindow = YamuxHeader.initialWindow
    private var consumed = 0
    private var remoteClosed = false
    private var localClosed = false
    private var isReset = false
    private var readWaiter: CheckedContinuation<Void, Never>?
    private var sendWindow = YamuxHeader.initialWindow
    private var windowWaiters: [CheckedContinuation<Void, Never>] = []
    private var firstFlags: YamuxHeader.Flags

    init(id: UInt32, peer: PeerID, session: YamuxSession, outbound: Bool) {
        self.id = id
        self.peer = peer
        self.session = session
        firstFlags = outbound ? .syn : .ack
    }

    func setProtocol(_ name: String) { protocolName = name }

    /// Reset the stream when a read waits this long for the peer (inbound streams: the opener went silent).
    private var idleMillis: Int?
    /// nil lifts the limit (a relayed connection's stream, kept alive by the connection's own pings).
    func limitIdle(millis: Int?) { idleMillis = millis }

    private func idleExpired(_ generation: Int) async {
        guard readWaiter != nil, generation == waits else { return }
        await reset()
    }
    private var waits = 0

    private func flags(_ extra: YamuxHeader.Flags = []) -> YamuxHeader.Flags {
        defer { firstFlags = [] }
        return firstFlags.union(extra)
    }

    /// The next chunk, or nil once the peer has closed its side.
    public func read() async throws -> [UInt8]? {
        while inboundHead == inbound.count {
            if isReset { throw YamuxError.reset }
            if remoteClosed { return nil }
            waits += 1
            let generation = waits
            let timer = idleMillis.map { millis in
                Task { [weak self] in
                    try await Task.sleep(for: .milliseconds(millis))
                    await self?.idleExpired(generation)
                }
            }
            await withCheckedContinuation { readWaiter = $0 }
            timer?.cancel()
        }
        // Everything already here, joined (up to 1 MiB): one wake-up of the reader per batch, not per frame.
        var chunk = inbound[inboundHead]
        inboundHead += 1
        while inboundHead < inbound.count && chunk.count + inbound[inboundHead].count <= 1 << 20 {
            chunk += inbound[inboundHead]
            inboundHead += 1
        }
        if inboundHead > 64 {
            inbound.removeFirst(inboundHead)
            inboundHead = 0
        }
        consumed += chunk.count
        if counted { session.release(chunk.count) }
        if consumed >= YamuxHeader.receiveWindow / 2 && !remoteClosed {
            let delta = consumed
            consumed = 0
            receiveWindow += delta
            try? await session.send(YamuxHeader(kind: .windowUpdate, flags: flags(), stream: id, length: UInt32(delta)).bytes)
        }
        session.account(protocolName, received: chunk.count)
        return chunk
    }

    public func write(_ bytes: [UInt8]) async throws {
        var start = 0
        while start < bytes.count {
            while sendWindow == 0 && !isReset { await withCheckedContinuation { windowWaiters.append($0) } }
            if isReset { throw YamuxError.reset }
            if localClosed { throw YamuxError.closed }
            let count = min(sendWindow, YamuxHeader.maxFrameData, bytes.count - start)
            sendWindow -= count
            let header = YamuxHeader(kind: .data, flags: flags(), stream: id, length: UInt32(count))
            try await session.send(header.bytes + bytes[start..<start + count])
            start += count
        }
        session.account(protocolName, sent: bytes.count)
    }

    /// Announces the stream (SYN) or accepts it (ACK), granting the larger window at once.
    func announce() async throws {
        let extra = YamuxHeader.receiveWindow - YamuxHeader.initialWindow
        receiveWindow += extra
        try await session.send(YamuxHeader(kind: .windowUpdate, flags: flags(), stream: id, length: UInt32(extra)).bytes)
    }

    /// Closes our side (FIN); the peer may still send until it closes too.
    public func close() async {
        guard !localClosed && !isReset else { return }
        localClosed = true
        try? await session.send(YamuxHeader(kind: .windowUpdate, flags: flags(.fin), stream: id, length: 0).bytes)
        if remoteClosed {
            detach()
            session.forget(id)
        }
    }

    public func reset() async {
        guard !isReset else { return }
        markReset()
        try? await session.send(YamuxHeader(kind: .windowUpdate, flags: .rst, stream: id, length: 0).bytes)
        session.forget(id)
    }

    // MARK: - From the session's reader

    func deliver(_ data: [UInt8]) throws(WireError) {
        guard data.count <= receiveWindow else { throw .malformed("yamux peer sent \(data.count) bytes beyond the window of \(receiveWindow)") }
        guard !remoteClosed else { throw .malformed("yamux data after FIN") }
        receiveWindow -= data.count
        if !data.isEmpty { inbound.append(data) }
        wakeReader()
    }

    func remoteFinished() -> Bool {
        remoteClosed = true
        wakeReader()
        return localClosed
    }

    /// Whether unread bytes still count against the session's budget (until the stream leaves the session).
    private var counted = true

    /// The stream leaves the session (closed both ways): its unread bytes stop counting against the
    /// session's budget but stay readable, now held only by whoever holds the stream.
    func detach() {
        guard counted else { return }
        counted = false
        session.release(inbound[inboundHead...].reduce(0) { $0 + $1.count })
    }

    func markReset() {
        detach()
        inbound = []
        inboundHead = 0
        isReset = true
        wakeReader()
        for waiter in windowWaiters { waiter.resume() }
        windowWaiters = []
    }

    func grow(window delta: UInt32) {
        sendWindow += Int(delta)
        guard sendWindow > 0 else { return }
        for waiter in windowWaiters { waiter.resume() }
        windowWaiters = []
    }

    private func wakeReader() {
        readWaiter?.resume()
        readWaiter = nil
    }
}

/// A yamux session over a secure channel: opens streams, routes frames to them, answers pings. A class
/// with a lock rather than an actor: every frame passes through it, and an actor would add two hops
/// (two possible thread switches) per frame on the data path.
public final class YamuxSession: Sendable {
    public let peer: PeerID
    private let writer: SecureWriter
    private let onInbound: @Sendable (YamuxStream) -> Void
    private let accounting: @Sendable (String, Int, Int) -> Void
    static let maxStreams = 512
    /// Unread bytes a connection may hold across all its streams. Windows alone would allow 512 × 1 MiB;
    /// a peer that fills more than this while we read nothing is flooding us.
    static let maxBuffered = 16 << 20

    /// Control frames (ping replies, RSTs refusing streams) the read loop has queued and the writer has
    /// not yet sent. The read loop never waits for the writer; a peer that makes us queue more than this
    /// (pinging while never reading our answers) is flooding us.
    static let controlFramesQueuedMax = 1_024

    private struct State {
        var nextID: UInt32
        var streams: [UInt32: YamuxStream] = [:]
        var closed = false
        var buffered = 0
        var control: [[UInt8]] = []
        var draining = false
        var nextPing: UInt32 = 1
        var pings: [UInt32: CheckedContinuation<Bool, Never>] = [:]
        /// When a stream was last opened or accepted, or the session made (ContinuousClock, for idle closing).
        var lastStream = ContinuousClock.now
    }

    private let state: NIOLockedValueBox<State>

    init(peer: PeerID, writer: SecureWriter, isClient: Bool, accounting: @escaping @Sendable (String, Int, Int) -> Void,
         onInbound: @escaping @Sendable (YamuxStream) -> Void) {
        self.peer = peer
        self.writer = writer
        self.accounting = accounting
        self.onInbound = onInbound
        state = NIOLockedValueBox(State(nextID: isClient ? 1 : 2))
    }

    public var streamCount: Int { state.withLockedValue { $0.streams.count } }
    /// How long the session has had no stream open, or nil while one is.
    public var idleFor: Duration? {
        state.withLockedValue { $0.streams.isEmpty ? ContinuousClock.now - $0.lastStream : nil }
    }
    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    func account(_ protocolName: String, received: Int = 0, sent: Int = 0) { accounting(protocolName, received, sent) }
    func release(_ count: Int) { state.withLockedValue { $0.buffered -= count } }

    func send(_ frame: [UInt8]) async throws {
        guard !isClosed else { throw YamuxError.sessionClosed }
        try await writer.write(frame)
    }

    /// Opens a stream (SYN sent).
    public func open() async throws -> YamuxStream {
        let stream: YamuxStream = try state.withLockedValue { state in
            guard !state.closed else { throw YamuxError.sessionClosed }
            guard state.streams.count < Self.maxStreams else { throw P2PError.limit("\(Self.maxStreams) streams on one connection") }
            let stream = YamuxStream(id: state.nextID, peer: peer, session: self, outbound: true)
            state.streams[state.nextID] = stream
            state.nextID += 2
            state.lastStream = .now
            return stream
        }
        try await stream.announce()
        return stream
    }

    func forget(_ id: UInt32) {
        state.withLockedValue { state in
            if state.streams.removeValue(forKey: id) != nil { state.lastStream = .now }
        }
    }

    /// Queues a control frame for the writer without waiting for it (the read loop must never block
    /// behind a back-pressured writer: it is what delivers the window updates that writer waits for).
    private func sendControl(_ frame: [UInt8]) throws(WireError) {
        // nil: over the bound.
        let startDrain = state.withLockedValue { state -> Bool? in
            guard !state.closed else { return false }
            guard state.control.count < Self.controlFramesQueuedMax else { return nil }
            state.control.append(frame)
            if state.draining { return false }
            state.draining = true
            return true
        }
        guard let startDrain else { throw .tooLarge("yamux peer left more than \(Self.controlFramesQueuedMax) control replies unread") }
        if startDrain { Task { await self.drainControl() } }
    }

    /// Writes queued control frames, in order, one write per batch.
    private func drainControl() async {
        while true {
            let frames: [[UInt8]] = state.withLockedValue { state in
                defer { state.control = [] }
                if state.control.isEmpty { state.draining = false }
                return state.control
            }
            if frames.isEmpty { return }
            try? await send(Array(frames.joined()))
        }
    }

    /// A yamux ping: true when the peer answers within `millis`. The keepalive: a peer that does not is dead.
    public func ping(millis: Int) async -> Bool {
        let id: UInt32? = state.withLockedValue { state in
            guard !state.closed, state.pings.count < 16 else { return nil }
            defer { state.nextPing &+= 1 }
            return state.nextPing
        }
        guard let id else { return false }
        return await withCheckedContinuation { continuation in
            let registered = state.withLockedValue { state -> Bool in
                guard !state.closed else { return false }
                state.pings[id] = continuation
                return true
            }
            guard registered else { return continuation.resume(returning: false) }
            Task {
                try? await Task.sleep(for: .milliseconds(millis))
                self.answerPing(id, alive: false)  // nothing left to answer if the ACK came first
            }
            do { try sendControl(YamuxHeader(kind: .ping, flags: .syn, stream: 0, length: id).bytes) } catch { answerPing(id, alive: false) }
        }
    }

    private func answerPing(_ id: UInt32, alive: Bool) {
        state.withLockedValue { $0.pings.removeValue(forKey: id) }?.resume(returning: alive)
    }

    /// Closes the session: a GoAway, then every stream fails.
    public func close() async {
        guard !isClosed else { return }
        try? await writer.write(YamuxHeader(kind: .goAway, stream: 0, length: 0).bytes)
        await shutdown()
    }

    func shutdown() async {
        let (all, pings): ([YamuxStream], [CheckedContinuation<Bool, Never>]) = state.withLockedValue { state in
            state.closed = true
            defer {
                state.streams = [:]
                state.pings = [:]
                state.control = []
            }
            return (Array(state.streams.values), Array(state.pings.values))
        }
        for ping in pings { ping.resume(returning: false) }
        for stream in all { await stream.markReset() }
        await writer.finish()
    }

    /// Reads frames until the connection ends; throws on a protocol violation (the caller drops the peer).
    func run(reader: BufferedReader) async throws {
        defer { Task { await self.shutdown() } }
        while true {
            let headerBytes: [UInt8]
            do { headerBytes = try await reader.readExactly(YamuxHeader.size) } catch WireError.closed { return }
            let header = try YamuxHeader(headerBytes)
            var data: [UInt8] = []
            if header.kind == .data {
                guard header.length <= UInt32(YamuxHeader.receiveWindow) else { throw WireError.tooLarge("yamux data frame of \(header.length) bytes") }
                data = try await reader.readExactly(Int(header.length))
            }
            if try await handle(header, data) == false { return }
        }
    }

    private enum Route {
        case stream(YamuxStream, opened: Bool)
        case refuse
        case drop
        case violation(String)
    }

    /// Finds (or, for a SYN, creates) the frame's stream under the lock.
    private func route(_ header: YamuxHeader) -> Route {
        state.withLockedValue { state -> Route in
            if header.flags.contains(.syn) {
                guard state.streams[header.stream] == nil, header.stream != 0 else { return .violation("yamux SYN for stream \(header.stream) already open") }
                guard header.stream % 2 != state.nextID % 2 else { return .violation("yamux peer opened stream \(header.stream) with our parity") }
                guard state.streams.count < Self.maxStreams else { return .refuse }
                let opened = YamuxStream(id: header.stream, peer: peer, session: self, outbound: false)
                state.streams[header.stream] = opened
                state.lastStream = .now
                return .stream(opened, opened: true)
            }
            // Frames for streams already forgotten (reset or fully closed) are dropped, as yamux allows.
            guard let stream = state.streams[header.stream] else { return .drop }
            if header.flags.contains(.rst) { state.streams[header.stream] = nil }
            return .stream(stream, opened: false)
        }
    }

    /// Returns false when the peer ended the session.
    private func handle(_ header: YamuxHeader, _ data: [UInt8]) async throws -> Bool {
        switch header.kind {
        case .ping:
            if header.flags.contains(.syn) { try sendControl(YamuxHeader(kind: .ping, flags: .ack, stream: 0, length: header.length).bytes) }
            if header.flags.contains(.ack) { answerPing(header.length, alive: true) }
            return true
        case .goAway:
            return false
        case .data, .windowUpdate:
            break
        }
        let stream: YamuxStream
        switch route(header) {
        case .violation(let detail):
            throw WireError.malformed(detail)
        case .drop:
            return true
        case .refuse:
            try sendControl(YamuxHeader(kind: .windowUpdate, flags: .rst, stream: header.stream, length: 0).bytes)
            return true
        case .stream(let found, let opened):
            stream = found
            if opened {
                // The ACK (with the larger window) goes out before the handler can write, but off the read
                // loop: at most one such task per open stream (512).
                let onInbound = self.onInbound
                Task {
                    do { try await found.announce() } catch { return }
                    onInbound(found)
                }
            }
        }
        if header.flags.contains(.rst) {
            await stream.markReset()
            return true
        }
        if header.kind == .data {
            let total = state.withLockedValue { state -> Int in
                state.buffered += data.count
                return state.buffered
            }
            guard total <= Self.maxBuffered else { throw WireError.tooLarge("yamux peer left more than \(Self.maxBuffered >> 20) MiB unread") }
            try await stream.deliver(data)
        } else {
            await stream.grow(window: header.length)
        }
        if header.flags.contains(.fin), await stream.remoteFinished() {
            await stream.detach()
            forget(header.stream)
        }
        return true
    }
}
