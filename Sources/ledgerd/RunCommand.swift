import ArgumentParser
import Consensus
import Credit
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import LedgerNetwork
import ServiceLifecycle
import Storage

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node: pulse, mempool, HTTP API, explorer and /metrics, until SIGINT or SIGTERM.",
        discussion: "Example: ledgerd run --data /tmp/node1 --http 127.0.0.1:8651")

    @OptionGroup var options: DataOption

    // Each option may also be set in DIR/ledgerd.toml under its long name; the command line wins.
    @Option(help: ArgumentHelp("Address for the HTTP API, explorer and /metrics (default 127.0.0.1:8650).", valueName: "host:port"))
    var http: HostPort?

    @Option(help: ArgumentHelp("Address for libp2p connections, TCP; port 0 picks a free one (default 0.0.0.0:7650).", valueName: "host:port"))
    var p2p: HostPort?

    @Option(name: .customLong("bootstrap"), help: ArgumentHelp("A peer to join the network through (repeatable).", valueName: "multiaddr"))
    var bootstrap: [String] = []

    @Option(name: .customLong("relay"), help: ArgumentHelp("A relay to be reached through when this node cannot be dialled (circuit relay v2, under a forwarding contract; repeatable).", valueName: "multiaddr"))
    var relays: [String] = []

    @Option(name: .customLong("external"), help: ArgumentHelp("An address to advertise to peers instead of the listen address (repeatable).", valueName: "multiaddr"))
    var external: [String] = []

    @Option(help: ArgumentHelp("Most simultaneous peer connections (default 256).", valueName: "n"))
    var maxPeers: Int?

    @Flag(inversion: .prefixedNo, help: "Vote in consensus when this node's key is in the bookkeeper set (default on); --no-bookkeeper only follows.")
    var bookkeeper: Bool?

    @Option(help: ArgumentHelp("Seconds the gateway waits for content it must fetch from peers before answering 504 (default 60).", valueName: "seconds"))
    var fetchTimeout: Int?

    @Option(help: ArgumentHelp("Bytes a day served free to each peer this node grants no credit (default 1GiB; 0: none).", valueName: "amount"))
    var freeAllowance: String?

    @Option(help: ArgumentHelp("How far past a peer's credit limit service goes on (default 1MiB).", valueName: "amount"))
    var creditTolerance: String?

    @Option(help: ArgumentHelp("Bytes received from a provider between the receipts this node signs (default 1MiB).", valueName: "amount"))
    var receiptInterval: String?

    @Option(help: ArgumentHelp("Seconds between settlements of a consumer's newest receipt while usage is unsettled (default 3600).", valueName: "seconds"))
    var settleInterval: Int?

    @Option(help: ArgumentHelp("Serve the database MiMei to Redis clients here (loopback only; off by default), e.g. 127.0.0.1:6390.", valueName: "host:port"))
    var redis: HostPort?

    @Option(name: .customLong("gateway-url"), help: ArgumentHelp("A URL browsers reach this node's gateway at, announced in the DHT for /tpt/ pages (repeatable).", valueName: "url"))
    var gatewayURL: [String] = []

    @Flag(help: "Announce the HTTP address the node is bound to as its gateway URL (with --http on a reachable address; not 0.0.0.0).")
    var announceGateway = false

    @Option(help: ArgumentHelp("Bytes a day the gateway serves one anonymous client address (an IPv6 /64) before 429 (default: no allowance).", valueName: "amount"))
    var gatewayAllowance: String?

    @Option(help: ArgumentHelp("Bytes a day the gateway serves all anonymous clients together before 429 (default: no limit).", valueName: "amount"))
    var gatewayLimit: String?

    @Flag(help: "Serve and fetch over Bitswap unbilled: no admission by credit, no receipts, no settlement (the benchmark's reference).")
    var noMetering = false

    // Plays a consumer that stops signing receipts, for the test that it is cut off.
    @Flag(help: .hidden) var noSignReceipts = false

    @Option(help: ArgumentHelp("Least severe log level shown: trace, debug, info, notice, warning, error, critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Log lines as text or as JSON objects (default text).", valueName: "text|json"))
    var logFormat: String?

    func validate() throws {
        for address in relays where (try? Multiaddr(address))?.peer == nil || (try? Multiaddr(address))?.circuit != nil {
            throw ValidationError("relay address '\(address)' must be a direct address ending in /p2p/<peer-id>")
        }
        for address in bootstrap + external + relays {
            do { _ = try Multiaddr(address) } catch { throw ValidationError("'\(address)': \(error)") }
        }
        for address in bootstrap where (try? Multiaddr(address))?.peer == nil {
            throw ValidationError("bootstrap address '\(address)' must end in /p2p/<peer-id>")
        }
        if let maxPeers, maxPeers <= 0 { throw ValidationError("--max-peers must be positive") }
        if let fetchTimeout, !(1...3_600).contains(fetchTimeout) { throw ValidationError("--fetch-timeout must be 1 to 3600 seconds") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical") }
        if let logFormat, !["text", "json"].contains(logFormat) { throw ValidationError("--log-format must be text or json") }
    }

    /// The flags merged over ledgerd.toml over the defaults.
    struct Settings {
        var http = HostPort(host: "127.0.0.1", port: 8650)
        var p2p = HostPort(host: "0.0.0.0", port: 7650)
        var bootstrap: [Multiaddr] = []
        var relays: [Multiaddr] = []
        var external: [Multiaddr] = []
        var maxPeers = 256
        var bookkeeper = true
        var fetchTimeout = 60
        var logLevel = Logger.Level.info
        var json = false
        var metering = Metering.Settings()
        var gateway = GatewayTraffic.Settings()
        var gatewayURLs: [String] = []
        var announceGateway = false
        var redis: HostPort?
    }

    func settings(_ file: ConfigFile) throws -> Settings {
        var settings = Settings()
        func hostPort(_ key: String) throws -> HostPort? {
            guard let text = try file.string(key) else { return nil }
            guard let value = HostPort(argument: text) else { throw RuntimeFailure("ledgerd.toml: \(key) '\(text)' is not host:port") }
            return value
        }
        func addresses(_ key: String, _ flags: [String]) throws -> [Multiaddr] {
            let texts = flags.isEmpty ? try file.strings(key) ?? [] : flags
            return try texts.map { text in
                do { return try Multiaddr(text) } catch { throw RuntimeFailure("\(key) '\(text)': \(error)") }
            }
        }
        settings.http = try http ?? hostPort("http") ?? settings.http
        settings.p2p = try p2p ?? hostPort("p2p") ?? settings.p2p
        settings.bootstrap = try addresses("bootstrap", bootstrap)
        guard settings.bootstrap.allSatisfy({ $0.peer != nil }) else { throw RuntimeFailure("every bootstrap address must end in /p2p/<peer-id>") }
        settings.external = try addresses("external", external)
        settings.relays = try addresses("relay", relays)
        guard settings.relays.allSatisfy({ $0.peer != nil && $0.circuit == nil }) else { throw RuntimeFailure("every relay address must end in /p2p/<peer-id>") }
        settings.maxPeers = try maxPeers ?? file.integer("max-peers") ?? settings.maxPeers
        guard settings.maxPeers > 0 else { throw RuntimeFailure("max-peers must be positive") }
        settings.bookkeeper = try bookkeeper ?? file.boolean("bookkeeper") ?? true
        settings.fetchTimeout = try fetchTimeout ?? file.integer("fetch-timeout") ?? settings.fetchTimeout
        guard (1...3_600).contains(settings.fetchTimeout) else { throw RuntimeFailure("fetch-timeout must be 1 to 3600 seconds") }
        if let level = try logLevel ?? file.string("log-level") {
            guard let parsed = Logger.Level(rawValue: level) else { throw RuntimeFailure("log-level '\(level)' is not a log level") }
            settings.logLevel = parsed
        }
        func amount(_ flag: String?, _ key: String, _ fallback: UInt64) throws -> UInt64 {
            guard let text = try flag ?? file.string(key) else { return fallback }
            guard let value = Units.parse(text) else { throw RuntimeFailure("\(key) '\(text)' is not an amount of bytes") }
            return value
        }
        let defaults = MeteringPolicy()
        settings.metering.policy = MeteringPolicy(
            receiptInterval: try amount(receiptInterval, "receipt-interval", defaults.receiptInterval),
            tolerance: try amount(creditTolerance, "credit-tolerance", defaults.tolerance),
            freePerDay: try amount(freeAllowance, "free-allowance", defaults.freePerDay))
        guard settings.metering.policy.receiptInterval >= 4_096 else { throw RuntimeFailure("receipt-interval must be at least 4KiB") }
        let settleSeconds = try settleInterval ?? file.integer("settle-interval") ?? Int(settings.metering.settleInterval)
        guard (1...31_536_000).contains(settleSeconds) else { throw RuntimeFailure("settle-interval must be 1 second to a year") }
        settings.metering.settleInterval = Double(settleSeconds)
        settings.metering.signReceipts = !noSignReceipts
        func optionalAmount(_ flag: String?, _ key: String) throws -> UInt64? {
            guard let text = try flag ?? file.string(key) else { return nil }
            guard let value = Units.parse(text) else { throw RuntimeFailure("\(key) '\(text)' is not an amount of bytes") }
            return value
        }
        settings.redis = try redis ?? hostPort("redis")
        if let redis = settings.redis, !["127.0.0.1", "::1", "localhost"].contains(redis.host) {
            throw RuntimeFailure("redis '\(redis.host):\(redis.port)' must be a loopback address: RESP has no encryption")
        }
        settings.gatewayURLs = gatewayURL.isEmpty ? try file.strings("gateway-url") ?? [] : gatewayURL
        let announceFromFile = try file.boolean("announce-gateway") ?? false
        settings.announceGateway = announceGateway || announceFromFile
        for url in settings.gatewayURLs where GatewayAnnouncer.gatewayURLs(in: Array("gateway \(url)".utf8)).isEmpty {
            throw RuntimeFailure("gateway-url '\(url)' is not an http(s) URL without user, query or fragment")
        }
        settings.gateway = GatewayTraffic.Settings(allowancePerClient: try optionalAmount(gatewayAllowance, "gateway-allowance"),
                                                   dailyLimit: try optionalAmount(gatewayLimit, "gateway-limit"))
        let format = try logFormat ?? file.string("log-format") ?? "text"
        guard ["text", "json"].contains(format) else { throw RuntimeFailure("log-format must be text or json") }
        settings.json = format == "json"
        return settings
    }

    func run() async throws {
        let directory = options.directory
        let settings = try self.settings(try ConfigFile.load(directory.configPath))
        let logger: Logger = {
            var logger = settings.json ? Logger(label: "ledgerd") { JSONLogHandler(label: $0) } : Logger(label: "ledgerd")
            logger.logLevel = settings.logLevel
            return logger
        }()
        let genesis: Genesis
        let nodeKey: SecretKey
        let peerKey: SecretKey
        let cookie: String
        do {
            try directory.lock()
            genesis = try directory.readGenesis()
            nodeKey = try directory.loadKey("node")
            // The libp2p identity is the node key unless keys/p2p.key gives it its own (so that the ledger
            // key can move to another device while the peer keeps its address, and for the test in which two
            // processes share one bookkeeper key).
            peerKey = FileManager.default.fileExists(atPath: directory.keyPath("p2p")) ? try directory.loadKey("p2p") : nodeKey
            let loaded = try AdminCookie.load(directory)
            cookie = loaded.token
            if loaded.regenerated { logger.warning("the admin cookie \(directory.cookiePath) was missing or empty; wrote a new one") }
        } catch {
            throw RuntimeFailure("\(error)")
        }
        let store = try LedgerStore(path: directory.databasePath, create: false)
        let storedChain = try store.meta("chain_id") ?? ""
        guard storedChain == genesis.chainID else { throw StoreError.wrongChain(stored: storedChain, expected: genesis.chainID) }
        let (_, genesisBlock) = try genesis.build()
        guard try store.meta("genesis_hash") == genesisBlock.hash.hex else {
            throw StoreError.damaged("block 0 in the database is not the block the genesis file makes")
        }

        let registry = NodeMetrics.bootstrap()
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let clock: @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
        let node = try LedgerNode(store: store, machine: machine, key: settings.bookkeeper ? nodeKey : nil, clock: clock, logger: logger,
                                  nettingKey: nodeKey)
        let driver = try await ConsensusDriver(node: node, config: ConsensusConfig(), wal: try ConsensusWAL(path: directory.consensusLogPath),
                                               clock: clock, logger: logger)
        // Blocks synced from peers move consensus on to the next height.
        await node.observeBlocks { _ in await driver.catchUp() }
        let info = NodeInfo(nodeKey: nodeKey.publicKey, version: LedgerdCommand.version, p2pAddress: settings.p2p.description,
                            genesisJSON: String(decoding: genesis.encodeJSON(), as: UTF8.self))

        var swarmConfig = Swarm.Config()
        swarmConfig.listenHost = settings.p2p.host
        swarmConfig.listenPort = settings.p2p.port
        swarmConfig.external = settings.external
        swarmConfig.agent = "ledgerd/\(LedgerdCommand.version)"
        swarmConfig.limits.maxConnections = settings.maxPeers
        swarmConfig.addressBookPath = directory.path + "/peers.json"
        let swarm = Swarm(identity: peerKey, config: swarmConfig, logger: logger)
        let ledgerPeers = LedgerPeers(node: node, swarm: swarm, genesisHash: genesisBlock.hash, logger: logger)
        let contentStore: ContentStore
        do { contentStore = try ContentStore(path: directory.contentStorePath) } catch { throw RuntimeFailure("\(error)") }
        let dht = DHT(swarm: swarm, tablePath: directory.path + "/routing-table.json", logger: logger)
        // Metering bills under the node's ledger key, which peers know from its peer ID only when the two are one.
        let metering: Metering?
        if noMetering {
            metering = nil
        } else if peerKey.publicKey == nodeKey.publicKey {
            do {
                metering = try Metering(key: nodeKey, node: node, swarm: swarm, book: ReceiptBook(path: directory.path + "/" + ReceiptBook.fileName),
                                        settings: settings.metering, logger: logger)
            } catch { throw RuntimeFailure("receipt book \(directory.path)/\(ReceiptBook.fileName): \(error)") }
        } else {
            metering = nil
            logger.warning("keys/p2p.key differs from the node key: Bitswap and DHT answers are not metered")
        }
        // Forwarding is billed like Bitswap, under the node key; a node without it neither relays nor is relayed.
        let forwarding: ForwardMetering?
        if metering != nil {
            do {
                forwarding = try ForwardMetering(key: nodeKey, node: node, swarm: swarm, book: ReceiptBook(path: directory.path + "/" + ForwardMetering.fileName),
                                                 settings: settings.metering, logger: logger)
            } catch { throw RuntimeFailure("receipt book \(directory.path)/\(ForwardMetering.fileName): \(error)") }
        } else {
            forwarding = nil
        }
        let relay = forwarding.map { CircuitRelay(swarm: swarm, policy: $0, logger: logger) }
        let relayClient = forwarding.flatMap { forwarding in
            settings.relays.isEmpty ? nil : RelayClient(swarm: swarm, relays: settings.relays, logger: logger) { await forwarding.counted($0, bytes: $1) }
        }
        let bitswap = Bitswap(swarm: swarm, store: contentStore, meter: metering, logger: logger)
        if let metering { await dht.meter(with: metering, unitsPerAnswer: node.parameters.dhtQueryUnits) }
        let mimeiStore: MiMeiStore
        do { mimeiStore = try MiMeiStore(content: contentStore) } catch { throw RuntimeFailure("\(error)") }
        let exchange = MiMeiExchange(swarm: swarm, store: mimeiStore, logger: logger)
        let fetcher = ContentFetcher(bitswap: bitswap, dht: dht, privateBlocks: exchange)
        let gatewayTraffic = GatewayTraffic(settings: settings.gateway)
        let announcer = GatewayAnnouncer(key: nodeKey, dht: dht, logger: logger)
        let usage: UsageLedger
        do { usage = try UsageLedger(path: directory.usagePath) } catch { throw RuntimeFailure("usage ledger \(directory.usagePath): \(error)") }
        let network = P2PNetwork(
            swarm: swarm, dht: dht, peers: ledgerPeers,
            consensus: ConsensusPeers(driver: driver, swarm: swarm, ledgerPeers: ledgerPeers, logger: logger), bitswap: bitswap,
            follower: MiMeiFollower(store: mimeiStore, dht: dht, fetcher: fetcher, exchange: exchange, logger: logger), exchange: exchange,
            usage: UsageRecorder(ledger: usage, traffic: swarm.traffic, gateway: gatewayTraffic), metering: metering,
            storage: StorageKeeper(key: nodeKey, node: node, store: contentStore, fetcher: fetcher, logger: logger), gateway: announcer,
            relay: relay, relayClient: relayClient, forwarding: forwarding)
        let p2pAddressPath = directory.path + "/p2p.address"
        let p2pService = P2PService(network: network, bootstrap: settings.bootstrap, logger: logger) { addresses in
            try? Data((addresses.map(\.description).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: p2pAddressPath))
        }
        let queries = LedgerQueries(node: node, info: info, network: network)

        let router = Router(context: NodeRequestContext.self)
        APIRoutes(queries: queries, adminToken: cookie).register(on: router)
        try ExplorerRoutes(queries: queries).register(on: router)
        // The path gateway serves what this node's content store holds (ledgerctl ipfs add writes it), and
        // fetches what it lacks from peers over Bitswap.
        GatewayRoutes(store: contentStore, fetcher: fetcher, fetchTimeout: .seconds(settings.fetchTimeout), mimei: mimeiStore, dht: dht, adminToken: cookie,
                      traffic: gatewayTraffic)
            .register(on: router)
        DownloadRoute(path: DownloadRoute.runningExecutable).register(on: router)
        TemplateRoute(store: contentStore, mimei: mimeiStore, dht: dht, announcer: announcer, selfID: nodeKey.publicKey.id).register(on: router)
        NodeMetrics.register(on: router, registry: registry, traffic: swarm.traffic)

        let pulseMillis = await node.parameters.pulseMillis
        let addressPath = directory.httpAddressPath
        let http = settings.http
        var services: [any ServiceLifecycle.Service] = [PulseService(driver: driver, pulseMillis: pulseMillis, genesisMillis: genesis.genesisTimeMillis, logger: logger), p2pService]
        let redisAddressPath = directory.path + "/redis.address"
        if let redis = settings.redis {
            let host = redis.host
            services.append(RedisServer(host: host, port: redis.port, databases: DatabaseHost(store: mimeiStore, author: nodeKey.publicKey.id, logger: logger),
                                        store: mimeiStore, adminToken: cookie, pulseMillis: pulseMillis, logger: logger) { port in
                try? Data("\(host):\(port)\n".utf8).write(to: URL(fileURLWithPath: redisAddressPath))
            })
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(http.host, port: http.port), serverName: "ledgerd"),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let url = "http://\(http.host):\(port)"
                try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: addressPath))
                // The gateway's URL for /tpt/ pages: as configured, or where it is bound (not a wildcard).
                let bound = settings.announceGateway && !["0.0.0.0", "::", "[::]"].contains(http.host) ? [url] : []
                let announced = settings.gatewayURLs + bound.filter { !settings.gatewayURLs.contains($0) }
                Task { await announcer.set(announced) }
                logger.info("ledgerd is running", metadata: ["explorer": "\(url)/", "api": "\(url)/api/v1/status", "chain": "\(genesis.chainID)"])
            },
            logger: logger)
        try await app.runService()
        try? FileManager.default.removeItem(atPath: addressPath)  // safe: the lock means no other node wrote it
        try? FileManager.default.removeItem(atPath: p2pAddressPath)
        try? FileManager.default.removeItem(atPath: redisAddressPath)
        logger.info("ledgerd stopped cleanly")
    }
}
