import NIOCore

/// Where a connection's raw (not yet encrypted) bytes go: a TCP socket's writer, or a stream through a
/// relay (specs/p2p.md §7.5). Noise and yamux run the same over both.
protocol RawSink: Sendable {
    func write(_ buffer: ByteBuffer) async throws
    func finish()
}

extension NIOAsyncChannelOutboundWriter: RawSink where OutboundOut == ByteBuffer {}

/// A relayed connection's raw bytes: written to the yamux stream that carries the circuit, counted.
struct StreamSink: RawSink {
    let stream: YamuxStream
    let onBytes: @Sendable (Int) async -> Void

    func write(_ buffer: ByteBuffer) async throws {
        try await stream.write(Array(buffer: buffer))
        await onBytes(buffer.readableBytes)
    }

    func finish() { Task { await stream.close() } }
}
