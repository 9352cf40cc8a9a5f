import Foundation
import NIOConcurrencyHelpers

/// Known peers and their addresses, kept in a JSON file in the data directory so a restarted node
/// finds its network again without the bootstrap peers.
public final class AddressBook: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var addresses: [String]
        public var lastSeen: Double
        public var protocols: [String]
        public var agent: String
    }

    private let path: String?
    // Keyed by peer ID; text (base58) only in the file.
    private let entries = NIOLockedValueBox([PeerID: Entry]())
    static let maxEntries = 10_000
    static let maxAddressesPerPeer = 8

    /// `path` nil: in memory only (simulations, benchmarks).
    public init(path: String?) {
        self.path = path
        if let path, let data = FileManager.default.contents(atPath: path),
           let loaded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            var parsed: [PeerID: Entry] = [:]
            for (key, entry) in loaded { if let peer = PeerID(key) { parsed[peer] = entry } }
            entries.withLockedValue { $0 = parsed }
        }
    }

    public func add(_ peer: PeerID, addresses: [Multiaddr], protocols: [String]? = nil, agent: String? = nil, seen: Bool = false) {
        entries.withLockedValue { entries in
            guard entries.count < Self.maxEntries || entries[peer] != nil else { return }
            var entry = entries[peer] ?? Entry(addresses: [], lastSeen: 0, protocols: [], agent: "")
            for address in addresses.map({ $0.transport.description }) where !entry.addresses.contains(address) {
                entry.addresses.insert(address, at: 0)
            }
            entry.addresses = Array(entry.addresses.prefix(Self.maxAddressesPerPeer))
            if let protocols { entry.protocols = Array(protocols.prefix(64)) }
            if let agent { entry.agent = String(agent.prefix(128)) }
            if seen { entry.lastSeen = Date().timeIntervalSince1970 }
            entries[peer] = entry
        }
    }

    public func addresses(of peer: PeerID) -> [Multiaddr] {
        entries.withLockedValue { $0[peer]?.addresses ?? [] }.compactMap { try? Multiaddr($0) }
    }

    public func entry(_ peer: PeerID) -> Entry? { entries.withLockedValue { $0[peer] } }

    public var all: [(peer: PeerID, entry: Entry)] {
        entries.withLockedValue { $0 }.map { ($0.key, $0.value) }
    }

    public func save() {
        guard let path else { return }
        let snapshot = Dictionary(uniqueKeysWithValues: entries.withLockedValue { $0 }.map { ($0.key.description, $0.value) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(snapshot) else { return }
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
