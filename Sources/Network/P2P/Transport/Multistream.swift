import Ledger
/// multistream-select 1.0: each side sends the header, the dialer proposes a protocol, the listener
/// echoes it or answers "na". Messages are varint-length-prefixed and end in "\n".
enum Multistream {
    static let header = "/multistream/1.0.0"
    static let notAvailable = "na"
    static let maxMessage = 1024

    static func message(_ text: String) -> [UInt8] { Varint.prefixed(Array((text + "\n").utf8)) }

    static func read(_ reader: BufferedReader) async throws -> String {
        let bytes = try await reader.readMessage(max: maxMessage)
        guard bytes.last == UInt8(ascii: "\n") else { throw WireError.malformed("multistream message without newline") }
        return String(decoding: bytes.dropLast(), as: UTF8.self)
    }

    /// Dialer: proposes `protocols` in order (the first in the same write as the header) and returns the
    /// one the listener accepts.
    static func select(_ protocols: [String], reader: BufferedReader, write: ([UInt8]) async throws -> Void) async throws -> String {
        try await write(message(header) + message(protocols[0]))
        guard try await read(reader) == header else { throw WireError.malformed("peer does not speak multistream-select 1.0") }
        for (index, proposal) in protocols.enumerated() {
            if index > 0 { try await write(message(proposal)) }
            let answer = try await read(reader)
            if answer == proposal { return proposal }
            guard answer == notAvailable else { throw WireError.malformed("multistream answer \"\(answer.prefix(40))\" is neither the proposal nor na") }
        }
        throw P2PError.protocolNotSupported(protocols.joined(separator: ", "))
    }

    /// Listener: answers proposals until one is in `supported`; returns it. Allows a few refusals and
    /// the `ls` request, no more, so a peer cannot keep a stream busy.
    static func handle(_ supported: Set<String>, reader: BufferedReader, write: ([UInt8]) async throws -> Void) async throws -> String {
        guard try await read(reader) == header else { throw WireError.malformed("peer does not speak multistream-select 1.0") }
        try await write(message(header))
        for _ in 0..<8 {
            let proposal = try await read(reader)
            if supported.contains(proposal) {
                try await write(message(proposal))
                return proposal
            }
            try await write(message(notAvailable))
        }
        throw WireError.malformed("too many refused protocol proposals")
    }
}

public enum P2PError: Error, CustomStringConvertible, Equatable {
    case protocolNotSupported(String)
    case unexpectedPeer(expected: PeerID, actual: PeerID)
    case banned(String)
    case limit(String)
    case timeout(String)
    case notConnected(PeerID)
    case dial(String)
    case listen(String)

    public var description: String {
        switch self {
        case .protocolNotSupported(let list): "peer supports none of: \(list)"
        case .unexpectedPeer(let expected, let actual): "dialed \(expected) but the peer proved to be \(actual)"
        case .banned(let who): "\(who) is banned"
        case .limit(let detail): "limit reached: \(detail)"
        case .timeout(let what): "timed out: \(what)"
        case .notConnected(let peer): "not connected to \(peer)"
        case .dial(let detail): "could not connect: \(detail)"
        case .listen(let detail): "cannot listen for peers: \(detail)"
        }
    }
}
