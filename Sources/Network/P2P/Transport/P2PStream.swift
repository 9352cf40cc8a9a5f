import Ledger
/// A negotiated stream as protocol code uses it: length-prefixed messages in and out, bounded reads.
/// Owned by one task at a time (its reader buffers); it crosses isolation only when handed over whole,
/// which is why it may be declared Sendable.
public final class P2PStream: @unchecked Sendable {
    public let stream: YamuxStream
    let reader: BufferedReader
    public let protocolName: String

    init(stream: YamuxStream, reader: BufferedReader, protocolName: String) {
        self.stream = stream
        self.reader = reader
        self.protocolName = protocolName
    }

    public var peer: PeerID { stream.peer }

    public func write(_ bytes: [UInt8]) async throws { try await stream.write(bytes) }
    /// Writes a varint-length-prefixed message.
    public func writeMessage(_ message: [UInt8]) async throws { try await stream.write(Varint.prefixed(message)) }
    public func readMessage(max: Int) async throws -> [UInt8] { try await reader.readMessage(max: max) }
    public func readMessageOrEnd(max: Int) async throws -> [UInt8]? { try await reader.readMessageOrEnd(max: max) }
    public func readExactly(_ count: Int) async throws -> [UInt8] { try await reader.readExactly(count) }
    public func readSome(max: Int) async throws -> [UInt8]? { try await reader.readSome(max: max) }
    public func close() async { await stream.close() }
    public func reset() async { await stream.reset() }
}
