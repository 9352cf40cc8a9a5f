import Ledger
/// Reads exact byte counts and length-prefixed messages from a source of chunks (a TCP connection, a
/// Noise channel, a yamux stream). Every length is bounded by the caller, so a hostile peer cannot make
/// the node buffer more than it agreed to. Used by one task at a time.
final class BufferedReader {
    private var buffer: [UInt8] = []
    private var offset = 0
    private let next: () async throws -> [UInt8]?

    init(_ next: @escaping () async throws -> [UInt8]?) { self.next = next }

    var buffered: Int { buffer.count - offset }

    /// Fills the buffer from the source; false at end of input.
    private func fill() async throws -> Bool {
        guard let chunk = try await next() else { return false }
        if offset == buffer.count {
            buffer = chunk
            offset = 0
        } else {
            buffer.removeFirst(offset)
            offset = 0
            buffer += chunk
        }
        return true
    }

    func readExactly(_ count: Int) async throws -> [UInt8] {
        while buffered < count {
            guard try await fill() else { throw buffered == 0 && count > 0 ? WireError.closed : WireError.malformed("truncated: wanted \(count) bytes, got \(buffered)") }
        }
        return take(count)
    }

    /// The next `count` buffered bytes; the whole buffer is handed over without a copy when it is exactly that.
    private func take(_ count: Int) -> [UInt8] {
        if offset == 0 && count == buffer.count {
            defer { buffer = [] }
            return buffer
        }
        defer { offset += count }
        return Array(buffer[offset..<offset + count])
    }

    /// Whatever is buffered, or the next chunk; nil at end of input.
    func readSome(max: Int) async throws -> [UInt8]? {
        if buffered == 0 { guard try await fill() else { return nil } }
        return take(min(max, buffered))
    }

    func readVarint() async throws -> UInt64 {
        while true {
            if let (value, length) = try Varint.decode(buffer[offset...]) {
                offset += length
                return value
            }
            guard try await fill() else { throw buffered == 0 ? WireError.closed : WireError.malformed("truncated varint") }
        }
    }

    /// A varint-length-prefixed message of at most `max` bytes.
    func readMessage(max: Int) async throws -> [UInt8] {
        let length = try await readVarint()
        guard length <= UInt64(max) else { throw WireError.tooLarge("message of \(length) bytes, limit \(max)") }
        return try await readExactly(Int(length))
    }

    /// Like readMessage, but nil when the input ends cleanly before a new message.
    func readMessageOrEnd(max: Int) async throws -> [UInt8]? {
        if buffered == 0 { guard try await fill() else { return nil } }
        return try await readMessage(max: max)
    }
}

extension Varint {
    static func prefixed(_ message: [UInt8]) -> [UInt8] { encode(UInt64(message.count)) + message }
}
