import ArgumentParser
import Consensus
import Credit
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import LedgerNetwork
import Storage

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node: pulse, mempool, HTTP API, explorer and /metrics, until SIGINT or SIGTERM.",
        discussion: "Example: ledgerd run --data /tmp/node1 --http 127.0.0.1:8651")

    @OptionGroup var options: DataOption

    @Option(help: ArgumentHelp("Address for the HTTP API, explorer and /metrics.", valueName: "host:port"))
    var http: HostPort = HostPort(host: "127.0.0.1", port: 8650)

    @Option(help: ArgumentHelp("Address for libp2p connections (TCP; port 0 picks a free one).", valueName: "host:port"))
    var p2p: HostPort = HostPort(host: "0.0.0.0", port: 7650)

    @Option(name: .customLong("bootstrap"), help: ArgumentHelp("A peer to join the network through (repeatable).", valueName: "multiaddr"))
    var bootstrap: [String] = []

    @Option(name: .customLong("external"), help: ArgumentHelp("An address to advertise to peers instead of the listen address (repeatable).", valueName: "multiaddr"))
    var external: [String] = []

    @Option(help: ArgumentHelp("Most simultaneous peer connections.", valueName: "n"))
    var maxPeers: Int = 256

    func validate() throws {
        for address in bootstrap + external {
            do { _ = try Multiaddr(address) } catch { throw ValidationError("'\(address)': \(error)") }
        }
        for address in bootstrap where (try? Multiaddr(address))?.peer == nil {
            throw ValidationError("bootstrap address '\(address)' must end in /p2p/<peer-id>")
        }
        guard maxPeers > 0 else { throw ValidationError("--max-peers must be positive") }
    }

    func run() async throws {
        let directory = options.directory
        let logger: Logger = {
            var logger = Logger(label: "ledgerd")
            logger.logLevel = .info
            return logger
        }()
        let genesis: Genesis
        let nodeKey: SecretKey
        let cookie: String
        do {
            try directory.lock()
            genesis = try directory.readGenesis()
            nodeKey = try directory.loadKey("node")
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
        let node = try LedgerNode(store: store, machine: machine, key: nodeKey, clock: clock, logger: logger, nettingKey: nodeKey)
        let driver = try await ConsensusDriver(node: node, config: ConsensusConfig(), wal: try ConsensusWAL(path: directory.consensusLogPath),
                                               clock: clock, logger: logger)
        // Blocks synced from peers move consensus on to the next height.
        await node.observeBlocks { _ in await driver.catchUp() }
        let info = NodeInfo(nodeKey: nodeKey.publicKey, version: LedgerdCommand.version, p2pAddress: p2p.description,
                            genesisJSON: String(decoding: genesis.encodeJSON(), as: UTF8.self))

        var swarmConfig = Swarm.Config()
        swarmConfig.listenHost = p2p.host
        swarmConfig.listenPort = p2p.port
        swarmConfig.external = try external.map { try Multiaddr($0) }
        swarmConfig.agent = "ledgerd/\(LedgerdCommand.version)"
        swarmConfig.limits.maxConnections = maxPeers
        swarmConfig.addressBookPath = directory.path + "/peers.json"
        let swarm = Swarm(identity: nodeKey, config: swarmConfig, logger: logger)
        let ledgerPeers = LedgerPeers(node: node, swarm: swarm, genesisHash: genesisBlock.hash, logger: logger)
        let network = P2PNetwork(
            swarm: swarm, dht: DHT(swarm: swarm, tablePath: directory.path + "/routing-table.json", logger: logger), peers: ledgerPeers,
            consensus: ConsensusPeers(driver: driver, swarm: swarm, ledgerPeers: ledgerPeers, logger: logger))
        let p2pAddressPath = directory.path + "/p2p.address"
        let p2pService = P2PService(network: network, bootstrap: try bootstrap.map { try Multiaddr($0) }, logger: logger) { addresses in
            try? Data((addresses.map(\.description).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: p2pAddressPath))
        }
        let queries = LedgerQueries(node: node, info: info, network: network)

        let router = Router()
        APIRoutes(queries: queries, adminToken: cookie).register(on: router)
        try ExplorerRoutes(queries: queries).register(on: router)
        NodeMetrics.register(on: router, registry: registry, traffic: swarm.traffic)

        let pulseMillis = await node.parameters.pulseMillis
        let addressPath = directory.httpAddressPath
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(http.host, port: http.port), serverName: "ledgerd"),
            services: [PulseService(driver: driver, pulseMillis: pulseMillis, genesisMillis: genesis.genesisTimeMillis, logger: logger), p2pService],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let url = "http://\(http.host):\(port)"
                try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: addressPath))
                logger.info("ledgerd is running", metadata: ["explorer": "\(url)/", "api": "\(url)/api/v1/status", "chain": "\(genesis.chainID)"])
            },
            logger: logger)
        try await app.runService()
        try? FileManager.default.removeItem(atPath: addressPath)  // safe: the lock means no other node wrote it
        try? FileManager.default.removeItem(atPath: p2pAddressPath)
        logger.info("ledgerd stopped cleanly")
    }
}
