/// How long this node waits for a peer, per request (specs/p2p.md §5). Every wait on a peer has one of
/// these deadlines, so a peer that goes silent costs a bounded time and never stalls sync, a DHT lookup or
/// an API route behind it. Tests shorten them through `Swarm.Config.deadlines`.
public struct Deadlines: Sendable {
    /// Opening a stream: dialing if needed (TCP connect 5 s plus the 10 s handshake, bounded on their
    /// own), the yamux SYN and the multistream-select negotiation of the protocol.
    public static let streamOpenMillisMax = 10_000
    /// Asking a newly connected peer who it is (identify's one message).
    public static let identifyMillisMax = 10_000
    /// One kad-dht request and its answer.
    public static let dhtQueryMillisMax = 10_000
    /// One whole iterative lookup (each of its queries is bounded by `dhtQueryMillisMax` as well); the
    /// public `/api/v1/dht/*` routes wait at most this long.
    public static let dhtLookupMillisMax = 30_000
    /// One block sync request: the status answer and up to 64 blocks. A peer that runs out of time is
    /// left, keeping the blocks it delivered, and sync goes on from the next peer that is ahead.
    public static let syncRequestMillisMax = 30_000
    /// A stream a peer opened to us is reset when our handler waits this long for the peer's next bytes
    /// (the server side of every protocol: a request that never comes, or stops halfway).
    public static let inboundIdleMillisMax = 60_000
    /// The answer to a keepalive ping (`Swarm.Config.keepaliveIntervalMillis` apart).
    public static let keepaliveMillisMax = 10_000

    public var streamOpenMillis = Deadlines.streamOpenMillisMax
    public var identifyMillis = Deadlines.identifyMillisMax
    public var dhtQueryMillis = Deadlines.dhtQueryMillisMax
    public var dhtLookupMillis = Deadlines.dhtLookupMillisMax
    public var syncRequestMillis = Deadlines.syncRequestMillisMax
    public var keepaliveMillis = Deadlines.keepaliveMillisMax
    public var inboundIdleMillis = Deadlines.inboundIdleMillisMax

    public init() {}
}

/// Runs `body`; when it is not done within `millis`, `expire` runs (it must end the body's waits, e.g. by
/// resetting the stream the body reads) and the call throws `P2PError.timeout`, never a `WireError`, so a
/// slow peer is left, not banned.
func withDeadline<T>(isolation: isolated (any Actor)? = #isolation, millis: Int, _ what: @autoclosure () -> String,
                     expire: @escaping @Sendable () async -> Void, _ body: () async throws -> T) async throws -> T {
    let expired = DoneFlag()
    let timer = Task {
        try await Task.sleep(for: .milliseconds(millis))
        expired.set()
        await expire()
    }
    defer { timer.cancel() }
    do {
        return try await body()
    } catch {
        if expired.isSet { throw P2PError.timeout("\(what()) took longer than \(millis) ms") }
        throw error
    }
}
