import Ledger
import Logging
import Storage

/// Keeps the MiMei this node follows up to date (specs/content.md §MiMei): every `intervalSeconds` it
/// reads each one's head from the DHT and, when the author has published a newer version, fetches the
/// whole DAG over Bitswap and records the version (which pins it). Provided MiMei are announced in the
/// DHT under their provider key once there is a peer to tell, and republished with the rest.
public actor MiMeiFollower {
    public static let intervalSeconds = 10
    /// A version's fetch may take this long before it is tried again next round.
    public static let fetchTimeout: Duration = .seconds(600)

    let store: MiMeiStore
    let dht: DHT
    let fetcher: ContentFetcher
    let logger: Logger
    private var fetching: Set<ID> = []
    private var announced: Set<ID> = []

    public init(store: MiMeiStore, dht: DHT, fetcher: ContentFetcher, logger: Logger) {
        self.store = store
        self.dht = dht
        self.fetcher = fetcher
        self.logger = logger
    }

    /// One round: announce what is newly provided, start fetching what has a newer head.
    public func check() async {
        guard let followed = try? store.followed() else { return }
        for (id, provide) in followed {
            if provide, !announced.contains(id), await dht.provide(MiMei.providerKey(id)) > 0 { announced.insert(id) }
            guard !fetching.contains(id), let record = await dht.get(MiMei.headKey(id)),
                  let head = try? MiMeiHead(value: record.value, key: record.key) else { continue }
            guard head.version > ((try? store.last(id))?.number ?? 0) else { continue }
            fetching.insert(id)
            Task { await self.fetch(head) }
        }
    }

    private func fetch(_ head: MiMeiHead) async {
        defer { fetching.remove(head.mimei.id) }
        do {
            let fetched = try await fetcher.fetch(head.cid, timeout: Self.fetchTimeout)
            try store.learn(head)
            logger.info("followed a MiMei to its new version", metadata: ["mimei": "\(head.mimei.id)", "version": "\(head.version)",
                                                                          "cid": "\(head.cid)", "blocks": "\(fetched.fetched)"])
        } catch {
            logger.warning("could not fetch a MiMei's new version", metadata: ["mimei": "\(head.mimei.id)", "version": "\(head.version)", "error": "\(error)"])
        }
    }
}
