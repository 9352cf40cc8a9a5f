import Foundation
import Ledger
#if canImport(Glibc)
import Glibc
#endif

/// A blocking RESP2 client for `ledgerctl mimei db` (specs/content.md §Database MiMei): one connection to
/// the node's Redis port, commands out, replies in.
final class RESPClient {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    init(host: String, port: Int) throws {
        var hints = addrinfo(ai_flags: 0, ai_family: AF_UNSPEC, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0, ai_addrlen: 0,
                             ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw CLIError("cannot resolve the node's Redis address \(host):\(port)")
        }
        defer { freeaddrinfo(result) }
        let descriptor = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { throw CLIError("cannot open a socket") }
        guard connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            close(descriptor)
            throw CLIError("cannot reach the node's Redis port \(host):\(port): is ledgerd running with --redis?")
        }
        socket = descriptor
    }

    deinit { close(socket) }

    /// Sends one command and reads its reply.
    func call(_ arguments: [[UInt8]]) throws -> RESP {
        var out = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments { out += Array("$\(argument.count)\r\n".utf8) + argument + [13, 10] }
        var sent = 0
        while sent < out.count {
            let count = out[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw CLIError("the node closed the Redis connection") }
            sent += count
        }
        return try reply()
    }

    private func byte() throws -> UInt8 {
        if position == buffer.count {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw CLIError("the node closed the Redis connection") }
            buffer = Array(chunk.prefix(count))
            position = 0
        }
        defer { position += 1 }
        return buffer[position]
    }

    private func line() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let next = try byte()
            if next == 13 { _ = try byte(); return String(decoding: bytes, as: UTF8.self) }
            bytes.append(next)
            guard bytes.count < 1 << 20 else { throw CLIError("a Redis reply line is too long") }
        }
    }

    private func reply() throws -> RESP {
        let kind = try byte()
        let text = try line()
        switch kind {
        case UInt8(ascii: "+"): return .simple(text)
        case UInt8(ascii: "-"): return .error(text)
        case UInt8(ascii: ":"):
            guard let value = Int64(text) else { throw CLIError("a Redis integer reply does not parse") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let size = Int(text), size <= RESP.bulkBytesMax else { throw CLIError("a Redis bulk reply does not parse") }
            guard size >= 0 else { return .bulk(nil) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(size)
            for _ in 0..<size { bytes.append(try byte()) }
            _ = try byte(); _ = try byte()
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(text), count <= RESP.argumentsMax else { throw CLIError("a Redis array reply does not parse") }
            guard count >= 0 else { return .array(nil) }
            return .array(try (0..<count).map { _ in try reply() })
        default: throw CLIError("the node's Redis port answered something that is not RESP")
        }
    }

    /// A reply as redis-cli prints it.
    static func render(_ reply: RESP, indent: String = "") -> String {
        switch reply {
        case .simple(let text): return text
        case .error(let text): return "(error) " + text
        case .integer(let value): return "(integer) \(value)"
        case .bulk(nil), .array(nil): return "(nil)"
        case .bulk(let bytes?): return "\"" + String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let items?):
            if items.isEmpty { return "(empty array)" }
            return items.enumerated().map { "\(indent)\($0.offset + 1)) " + render($0.element, indent: indent + "   ") }.joined(separator: "\n")
        }
    }
}
