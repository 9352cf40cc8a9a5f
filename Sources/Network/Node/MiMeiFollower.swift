import Ledger
import Logging
import Storage

/// Keeps the MiMei this node follows up to date (specs/content.md §MiMei): every `intervalSeconds` it
/// reads each one's head from the DHT and, when the author has published a newer version, fetches the
/// whole DAG over Bitswap and records the version (which pins it). Provided MiMei are announced in the
/// DHT under their provider key once there is a peer to tell, and republished with the rest. A private
/// MiMei is never announced; its head is asked of the connected peers through the head exchange, with
/// this node's capability, and its content fetched from those that granted it.
public actor MiMeiFollower {
    public static let intervalSeconds = 10
    /// A version's fetch may take this long before it is tried again next round.
    public static let fetchTimeout: Duration = .seconds(600)

    let store: MiMeiStore
    let dht: DHT
    let fetcher: ContentFetcher
    let exchange: MiMeiExchange?
    let logger: Logger
    private var fetching: Set<ID> = []
    private var announced: Set<ID> = []

    public init(store: MiMeiStore, dht: DHT, fetcher: ContentFetcher, exchange: MiMeiExchange? = nil, logger: Logger) {
        self.store = store
        self.dht = dht
        self.fetcher = fetcher
        self.exchange = exchange
        self.logger = logger
    }

    /// One round: announce what is newly provided, start fetching what has a newer head.
    public func check() async {
        guard let followed = try? store.followed() else { return }
        for (id, provide) in followed {
            guard let mimei = try? store.mimei(id) else { continue }
            if provide, !mimei.isPrivate, !announced.contains(id), await dht.provide(MiMei.providerKey(id)) > 0 { announced.insert(id) }
            guard !fetching.contains(id) else { continue }
            let found: (record: DHTRecord, head: MiMeiHead)?
            if mimei.isPrivate {
                found = await exchange?.head(id, capability: try? store.capability(id)).map { ($0.record, $0.head) }
            } else if let record = await dht.get(MiMei.headKey(id)), let head = try? MiMeiHead(value: record.value, key: record.key) {
                found = (record, head)
            } else {
                found = nil
            }
            guard let found, found.head.version > ((try? store.last(id))?.number ?? 0) else { continue }
            fetching.insert(id)
            Task { await self.fetch(found.head, record: found.record) }
        }
    }

    private func fetch(_ head: MiMeiHead, record: DHTRecord) async {
        defer { fetching.remove(head.mimei.id) }
        do {
            let privateTo = head.mimei.isPrivate ? head.mimei.id : nil
            if let privateTo { try store.content.markPrivate(head.cid, to: privateTo) }
            let fetched = try await fetcher.fetch(head.cid, timeout: Self.fetchTimeout, privateTo: privateTo)
            try store.learn(head)
            try store.setHead(head.mimei.id, record: record.encoded)
            logger.info("followed a MiMei to its new version", metadata: ["mimei": "\(head.mimei.id)", "version": "\(head.version)",
                                                                          "cid": "\(head.cid)", "blocks": "\(fetched.fetched)"])
        } catch {
            logger.warning("could not fetch a MiMei's new version", metadata: ["mimei": "\(head.mimei.id)", "version": "\(head.version)", "error": "\(error)"])
        }
    }
}
