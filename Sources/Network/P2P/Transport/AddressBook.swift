import Foundation
import NIOConcurrencyHelpers

/// Known peers and their addresses, kept in a JSON file in the data directory so a restarted node
/// finds its network again without the bootstrap peers.
public final class AddressBook: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        /// The peer's own addresses: what it told us (identify, its own provider record) or where we reached it.
        public var addresses: [String]
        public var lastSeen: Double
        public var protocols: [String]
        public var agent: String
        /// Addresses other peers claimed for it (kad-dht answers): kept apart, so they never push the
        /// peer's own addresses out; dialed after those.
        public var learned: [String]?
        /// When this entry was made (for eviction of peers never seen).
        public var added: Double?
    }

    /// Where an address comes from.
    public enum Source: Sendable {
        /// The peer itself (identify, its own ADD_PROVIDER) or a connection to it.
        case peer
        /// Another peer's answer about it.
        case others
    }

    private let path: String?
    // Keyed by peer ID; text (base58) only in the file.
    private let entries = NIOLockedValueBox([PeerID: Entry]())
    /// Peers kept, at most; a full book forgets `evictionBatch` entries to make room (see `evict`).
    static let maxEntries = 10_000
    static let evictionBatch = 100
    /// Addresses kept per peer from each source (own and learned), so at most 16 per peer.
    static let maxAddressesPerPeer = 8

    /// `path` nil: in memory only (simulations, benchmarks).
    public init(path: String?) {
        self.path = path
        if let path, let data = FileManager.default.contents(atPath: path),
           let loaded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            var parsed: [PeerID: Entry] = [:]
            for (key, entry) in loaded.prefix(Self.maxEntries) { if let peer = PeerID(key) { parsed[peer] = entry } }
            entries.withLockedValue { $0 = parsed }
        }
    }

    public var count: Int { entries.withLockedValue { $0.count } }

    public func add(_ peer: PeerID, addresses: [Multiaddr], from source: Source = .peer, protocols: [String]? = nil, agent: String? = nil,
                    seen: Bool = false, now: Double = Date().timeIntervalSince1970) {
        entries.withLockedValue { entries in
            if entries[peer] == nil && entries.count >= Self.maxEntries {
                // Others' answers make room only among peers that are themselves known from others' answers:
                // they can never push out a peer that was seen.
                Self.evict(&entries, onlyUnseen: source == .others && !seen)
                if entries.count >= Self.maxEntries { return }
            }
            var entry = entries[peer] ?? Entry(addresses: [], lastSeen: 0, protocols: [], agent: "", learned: nil, added: now)
            let texts = addresses.map { $0.transport.description }
            switch source {
            case .peer:
                for address in texts where !entry.addresses.contains(address) { entry.addresses.insert(address, at: 0) }
                entry.addresses = Array(entry.addresses.prefix(Self.maxAddressesPerPeer))
                entry.learned?.removeAll { entry.addresses.contains($0) }
            case .others:
                var learned = entry.learned ?? []
                for address in texts where !entry.addresses.contains(address) && !learned.contains(address) { learned.insert(address, at: 0) }
                entry.learned = learned.isEmpty ? nil : Array(learned.prefix(Self.maxAddressesPerPeer))
            }
            if let protocols { entry.protocols = Array(protocols.prefix(64)) }
            if let agent { entry.agent = String(agent.prefix(128)) }
            if seen { entry.lastSeen = now }
            entries[peer] = entry
        }
    }

    /// Makes room in a full book: peers never seen (known only from others' answers) go first, oldest
    /// first; then the least recently seen.
    private static func evict(_ entries: inout [PeerID: Entry], onlyUnseen: Bool) {
        let victims = entries.filter { !onlyUnseen || $0.value.lastSeen == 0 }.sorted { a, b in
            let seenA = a.value.lastSeen > 0, seenB = b.value.lastSeen > 0
            if seenA != seenB { return !seenA }
            return (seenA ? a.value.lastSeen : a.value.added ?? 0) < (seenB ? b.value.lastSeen : b.value.added ?? 0)
        }.prefix(Self.evictionBatch)
        for (peer, _) in victims { entries[peer] = nil }
    }

    /// Its own addresses first, then those learned from others.
    public func addresses(of peer: PeerID) -> [Multiaddr] {
        entries.withLockedValue { $0[peer].map { $0.addresses + ($0.learned ?? []) } ?? [] }.compactMap { try? Multiaddr($0) }
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
