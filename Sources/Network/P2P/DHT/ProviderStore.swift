/// Who provides which key, each record expiring `ttl` seconds after it was added (libp2p: 48 h; the
/// provider republishes before then). Pure: time is passed in. Bounded per key and in total.
public struct ProviderStore: Sendable {
    public static let defaultTTL: Double = 48 * 3600
    static let maxPerKey = 64
    static let maxKeys = 100_000

    private var records: [[UInt8]: [PeerID: Double]] = [:]  // key -> provider -> expiry
    public let ttl: Double

    public init(ttl: Double = ProviderStore.defaultTTL) { self.ttl = ttl }

    public mutating func add(key: [UInt8], provider: PeerID, now: Double) {
        guard records[key] != nil || records.count < Self.maxKeys else { return }
        var providers = records[key, default: [:]]
        if providers[provider] == nil && providers.count >= Self.maxPerKey {
            guard let oldest = providers.min(by: { $0.value < $1.value })?.key else { return }
            providers[oldest] = nil
        }
        providers[provider] = now + ttl
        records[key] = providers
    }

    public mutating func providers(of key: [UInt8], now: Double) -> [PeerID] {
        guard let providers = records[key] else { return [] }
        let live = providers.filter { $0.value > now }
        records[key] = live.isEmpty ? nil : live
        return live.keys.sorted()
    }

    public mutating func expire(now: Double) {
        records = records.compactMapValues { providers in
            let live = providers.filter { $0.value > now }
            return live.isEmpty ? nil : live
        }
    }

    public var keyCount: Int { records.count }
}
