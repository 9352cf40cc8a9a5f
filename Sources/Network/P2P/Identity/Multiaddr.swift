import Ledger
/// A multiaddr, the self-describing address libp2p uses: `/ip4/127.0.0.1/tcp/7650/p2p/<peer-id>`.
/// Only the components a TCP node needs are supported: ip4, ip6, dns, dns4, dns6, tcp, p2p and
/// p2p-circuit (a peer reached through the relay named before it, specs/p2p.md §7.5).
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        case ip4([UInt8])
        case ip6([UInt8])
        case dns(String), dns4(String), dns6(String)
        case tcp(UInt16)
        case p2p(PeerID)
        /// `/p2p-circuit`: what follows is reached through the relay before it (circuit relay v2).
        case circuit
    }

    public let components: [Component]

    public init(components: [Component]) { self.components = components }

    public init(host: String, port: Int, peer: PeerID? = nil) {
        var components: [Component] = []
        if let ip4 = Self.parseIPv4(host) { components.append(.ip4(ip4)) } else { components.append(.dns(host)) }
        components.append(.tcp(UInt16(clamping: port)))
        if let peer { components.append(.p2p(peer)) }
        self.components = components
    }

    public init(_ text: String) throws(WireError) {
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "", parts.count >= 3 else { throw .malformed("multiaddr must start with / (like /ip4/127.0.0.1/tcp/7650)") }
        parts.removeFirst()
        var components: [Component] = []
        var index = 0
        while index < parts.count {
            let name = parts[index]
            if name == "p2p-circuit" {
                components.append(.circuit)
                index += 1
                continue
            }
            guard index + 1 < parts.count else { throw .malformed("multiaddr component /\(name) has no value") }
            let value = parts[index + 1]
            switch name {
            case "ip4":
                guard let bytes = Self.parseIPv4(value) else { throw .malformed("\(value) is not an IPv4 address") }
                components.append(.ip4(bytes))
            case "ip6":
                guard let bytes = Self.parseIPv6(value) else { throw .malformed("\(value) is not an IPv6 address") }
                components.append(.ip6(bytes))
            case "dns", "dns4", "dns6":
                guard !value.isEmpty, value.utf8.count < 256 else { throw .malformed("bad host name") }
                components.append(name == "dns" ? .dns(value) : name == "dns4" ? .dns4(value) : .dns6(value))
            case "tcp":
                guard let port = UInt16(value) else { throw .malformed("\(value) is not a TCP port") }
                components.append(.tcp(port))
            case "p2p", "ipfs":
                guard let peer = PeerID(value) else { throw .malformed("\(value) is not a peer ID") }
                components.append(.p2p(peer))
            default:
                throw .malformed("multiaddr protocol /\(name) is not supported")
            }
            index += 2
        }
        self.components = components
    }

    // Multicodec codes (github.com/multiformats/multicodec).
    static let codes: (ip4: UInt64, tcp: UInt64, ip6: UInt64, dns: UInt64, dns4: UInt64, dns6: UInt64, p2p: UInt64, circuit: UInt64) =
        (4, 6, 41, 53, 54, 55, 421, 290)

    /// The binary form carried in identify and kad-dht messages.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for component in components {
            switch component {
            case .ip4(let address): out += Varint.encode(Self.codes.ip4) + address
            case .ip6(let address): out += Varint.encode(Self.codes.ip6) + address
            case .dns(let host): out += Varint.encode(Self.codes.dns) + Varint.encode(UInt64(host.utf8.count)) + Array(host.utf8)
            case .dns4(let host): out += Varint.encode(Self.codes.dns4) + Varint.encode(UInt64(host.utf8.count)) + Array(host.utf8)
            case .dns6(let host): out += Varint.encode(Self.codes.dns6) + Varint.encode(UInt64(host.utf8.count)) + Array(host.utf8)
            case .tcp(let port): out += Varint.encode(Self.codes.tcp) + [UInt8(port >> 8), UInt8(port & 0xff)]
            case .p2p(let peer): out += Varint.encode(Self.codes.p2p) + Varint.encode(UInt64(peer.bytes.count)) + peer.bytes
            case .circuit: out += Varint.encode(Self.codes.circuit)
            }
        }
        return out
    }

    public init(bytes: [UInt8]) throws(WireError) {
        var components: [Component] = []
        var index = 0
        func take(_ count: Int) throws(WireError) -> [UInt8] {
            guard count >= 0, bytes.count - index >= count else { throw .malformed("multiaddr truncated") }
            defer { index += count }
            return Array(bytes[index..<index + count])
        }
        func sized() throws(WireError) -> [UInt8] {
            guard let (length, used) = try Varint.decode(bytes[index...]), length <= 1024 else { throw .malformed("multiaddr length truncated") }
            index += used
            return try take(Int(length))
        }
        while index < bytes.count {
            guard let (code, used) = try Varint.decode(bytes[index...]) else { throw .malformed("multiaddr code truncated") }
            index += used
            switch code {
            case Self.codes.ip4: components.append(.ip4(try take(4)))
            case Self.codes.ip6: components.append(.ip6(try take(16)))
            case Self.codes.dns: components.append(.dns(String(decoding: try sized(), as: UTF8.self)))
            case Self.codes.dns4: components.append(.dns4(String(decoding: try sized(), as: UTF8.self)))
            case Self.codes.dns6: components.append(.dns6(String(decoding: try sized(), as: UTF8.self)))
            case Self.codes.tcp:
                let port = try take(2)
                components.append(.tcp(UInt16(port[0]) << 8 | UInt16(port[1])))
            case Self.codes.p2p: components.append(.p2p(try PeerID(bytes: try sized())))
            case Self.codes.circuit: components.append(.circuit)
            default: throw .malformed("multiaddr protocol code \(code) is not supported")
            }
        }
        self.components = components
    }

    public var description: String {
        components.map { component in
            switch component {
            case .ip4(let address): "/ip4/" + address.map(String.init).joined(separator: ".")
            case .ip6(let address): "/ip6/" + Self.formatIPv6(address)
            case .dns(let host): "/dns/\(host)"
            case .dns4(let host): "/dns4/\(host)"
            case .dns6(let host): "/dns6/\(host)"
            case .tcp(let port): "/tcp/\(port)"
            case .p2p(let peer): "/p2p/\(peer)"
            case .circuit: "/p2p-circuit"
            }
        }.joined()
    }

    /// The relay's address (with its /p2p) and the peer behind it, for `<relay>/p2p/R/p2p-circuit/p2p/P`.
    public var circuit: (relay: Multiaddr, target: PeerID?)? {
        guard let at = components.firstIndex(of: .circuit) else { return nil }
        let relay = Multiaddr(components: Array(components[..<at]))
        guard relay.peer != nil, relay.tcpEndpoint != nil else { return nil }
        var target: PeerID?
        for case .p2p(let peer) in components[(at + 1)...] { target = peer }
        return (relay, target)
    }

    /// Host and port to dial, if this is a direct TCP address (a circuit address has none of its own).
    public var tcpEndpoint: (host: String, port: Int)? {
        guard !components.contains(.circuit) else { return nil }
        var host: String?
        var port: Int?
        for component in components {
            switch component {
            case .ip4(let address): host = address.map(String.init).joined(separator: ".")
            case .ip6: host = String(description.split(separator: "/")[1])
            case .dns(let name), .dns4(let name), .dns6(let name): host = name
            case .tcp(let value): port = Int(value)
            case .p2p, .circuit: break
            }
        }
        guard let host, let port else { return nil }
        return (host, port)
    }

    /// The peer this address reaches: the last /p2p (after a /p2p-circuit, the peer behind the relay).
    public var peer: PeerID? {
        guard case .p2p(let peer)? = components.last else { return nil }
        return peer
    }

    /// The address without the /p2p component of the peer it reaches (a relay's own stays).
    public var transport: Multiaddr {
        guard case .p2p? = components.last else { return self }
        return Multiaddr(components: Array(components.dropLast()))
    }

    public func with(peer: PeerID) -> Multiaddr { Multiaddr(components: transport.components + [.p2p(peer)]) }

    /// RFC 5952 text: lower-case hex groups, the longest run of two or more zero groups as "::".
    static func formatIPv6(_ address: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]) }
        var best = (start: -1, length: 0), current = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                current = current.start < 0 ? (index, 1) : (current.start, current.length + 1)
                if current.length > best.length { best = current }
            } else {
                current = (-1, 0)
            }
        }
        let text = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return text.joined(separator: ":") }
        return text[..<best.start].joined(separator: ":") + "::" + text[(best.start + best.length)...].joined(separator: ":")
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]), let tail = halves.count == 2 ? groups(halves[1]) : [] else { return nil }
        let fill = 8 - head.count - tail.count
        guard halves.count == 2 ? fill >= 1 : fill == 0 else { return nil }
        return (head + [UInt16](repeating: 0, count: fill) + tail).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}
