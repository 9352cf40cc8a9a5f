import Foundation

/// A blocking HTTP/1.1 client on one kept-alive loopback connection: the load generator for the
/// consensus benchmark, cheap enough that the node, not the client, is what is measured.
/// Unchecked Sendable: each client is used by one thread at a time (one per submitting thread).
final class BenchHTTPClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let host: String
    private let port: UInt16
    private var socketDescriptor: Int32 = -1
    private var buffer: [UInt8] = []

    init(url: String) throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else { throw Failure(description: "bad URL \(url)") }
        self.host = host
        self.port = UInt16(port)
    }

    deinit { if socketDescriptor >= 0 { close(socketDescriptor) } }

    private func connect() throws {
        socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socketDescriptor)
            socketDescriptor = -1
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
        var one: Int32 = 1
        setsockopt(socketDescriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        buffer = []
    }

    /// Sends one request and returns the status and body; reconnects once if the connection was closed.
    func request(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws -> (status: Int, body: [UInt8]) {
        for attempt in 0..<2 {
            if socketDescriptor < 0 { try connect() }
            var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            let message = Array((head + "\r\n").utf8) + body
            let sent = message.withUnsafeBytes { send(socketDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == message.count, let answer = try? readResponse() { return answer }
            close(socketDescriptor)
            socketDescriptor = -1
            if attempt == 1 { break }
        }
        throw Failure(description: "\(method) \(path) to \(host):\(port) failed")
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(socketDescriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw Failure(description: "connection closed") }
        buffer += chunk[0..<count]
    }

    private func readResponse() throws -> (status: Int, body: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        var end: Int?
        while end == nil {
            if buffer.count >= 4 { end = (0...(buffer.count - 4)).first { Array(buffer[$0..<($0 + 4)]) == separator } }
            if end == nil { try fill() }
        }
        let headerText = String(decoding: buffer[0..<end!], as: UTF8.self)
        let lines = headerText.split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let length = lines.compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "content-length" ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }.first ?? 0
        let start = end! + 4
        while buffer.count < start + length { try fill() }
        let body = Array(buffer[start..<(start + length)])
        buffer.removeFirst(start + length)
        return (status, body)
    }

    func json(_ path: String) throws -> [String: Any] {
        let answer = try request("GET", path)
        guard answer.status == 200, let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
            throw Failure(description: "GET \(path): status \(answer.status)")
        }
        return object
    }
}
