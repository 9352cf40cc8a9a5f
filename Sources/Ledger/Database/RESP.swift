/// The Redis serialization protocol, version 2 (specs/content.md §Database MiMei): what the database
/// MiMei's server reads (commands: arrays of bulk strings, or inline lines) and writes (replies).
public enum RESP: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESP]?)

    public static let ok = RESP.simple("OK")
    public static let null = RESP.bulk(nil)
    public static func bulk(_ text: String) -> RESP { .bulk(Array(text.utf8)) }

    public func encode(into out: inout [UInt8]) {
        switch self {
        // A line reply cannot carry a line break: one in echoed input would forge a reply.
        case .simple(let text): out += Array(("+" + Self.oneLine(text) + "\r\n").utf8)
        case .error(let text): out += Array(("-" + Self.oneLine(text) + "\r\n").utf8)
        case .integer(let value): out += Array(":\(value)\r\n".utf8)
        case .bulk(nil): out += Array("$-1\r\n".utf8)
        case .bulk(let bytes?):
            out += Array("$\(bytes.count)\r\n".utf8)
            out += bytes
            out += [13, 10]
        case .array(nil): out += Array("*-1\r\n".utf8)
        case .array(let items?):
            out += Array("*\(items.count)\r\n".utf8)
            for item in items { item.encode(into: &out) }
        }
    }

    static func oneLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? String(text.map { $0.isNewline ? " " : $0 }) : text
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Limits on what a client may send: a command's arguments, and one argument's bytes.
    public static let argumentsMax = 1 << 20
    public static let bulkBytesMax = 512 << 20
    public static let inlineBytesMax = 64 << 10

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case protocolError(String)
        public var description: String {
            switch self { case .protocolError(let why): "Protocol error: \(why)" }
        }
    }

    /// One command from the front of `buffer` starting at `start`: its arguments and where the next
    /// begins, or nil when the command is not complete yet.
    public static func parseCommand(_ buffer: [UInt8], from start: Int) throws(ParseError) -> (arguments: [[UInt8]], next: Int)? {
        guard start < buffer.count else { return nil }
        if buffer[start] != UInt8(ascii: "*") { return try parseInline(buffer, from: start) }
        guard let (count, afterCount) = try line(buffer, from: start + 1) else { return nil }
        guard let items = Int(count), items <= argumentsMax else { throw .protocolError("invalid multibulk length") }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(max(0, items))
        var position = afterCount
        for _ in 0..<max(0, items) {
            guard position < buffer.count else { return nil }
            guard buffer[position] == UInt8(ascii: "$") else {
                throw .protocolError("expected '$', got '\(Character(Unicode.Scalar(buffer[position])))'")
            }
            guard let (length, afterLength) = try line(buffer, from: position + 1) else { return nil }
            guard let size = Int(length), size >= 0, size <= bulkBytesMax else { throw .protocolError("invalid bulk length") }
            guard afterLength + size + 2 <= buffer.count else { return nil }
            arguments.append(Array(buffer[afterLength..<(afterLength + size)]))
            position = afterLength + size + 2
        }
        return (arguments, position)
    }

    /// A line's text (up to CRLF) and the index after it.
    static func line(_ buffer: [UInt8], from start: Int) throws(ParseError) -> (String, Int)? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == 13 && buffer[index + 1] == 10 { return (String(decoding: buffer[start..<index], as: UTF8.self), index + 2) }
            index += 1
            if index - start > 64 { throw .protocolError("too big count") }
        }
        return nil
    }

    /// An inline command: words separated by spaces, up to a newline (as `telnet` sends them).
    static func parseInline(_ buffer: [UInt8], from start: Int) throws(ParseError) -> (arguments: [[UInt8]], next: Int)? {
        guard let end = buffer[start...].firstIndex(of: 10) else {
            if buffer.count - start > inlineBytesMax { throw .protocolError("too big inline request") }
            return nil
        }
        var text = Array(buffer[start..<end])
        if text.last == 13 { text.removeLast() }
        let words = text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true).map(Array.init)
        return (words, end + 1)
    }
}
