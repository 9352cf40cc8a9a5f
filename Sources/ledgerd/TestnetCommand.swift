import ArgumentParser
import Foundation
import Ledger
import LedgerNetwork
import Storage

struct TestnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testnet",
        abstract: "Write N data directories that share one genesis with all N as bookkeepers, on free loopback ports.",
        discussion: """
            Example: ledgerd testnet --nodes 4 --dir /tmp/net   then   ledgerd run --data /tmp/net/node0   (and node1 … node3)
            Each DIR/nodeK holds its key, the admin cookie, the database and a ledgerd.toml with its HTTP and
            peer ports and the other nodes as bootstrap peers. Every node's own account is funded with --fund,
            and each bookkeeper stands with a genesis bond of --bond. --followers M writes M more directories
            (nodeN …) of nodes that follow the chain and can bond to stand at the next election.
            """)

    @Option(help: ArgumentHelp("How many bookkeepers (1 to 100).", valueName: "n"))
    var nodes: Int = 4

    @Option(help: ArgumentHelp("Where to write node0 … node{N-1}.", valueName: "dir"))
    var dir: String

    @Option(help: ArgumentHelp("Put node 0 here instead of DIR/node0 (make run puts the newcomer's own node there).", valueName: "dir"))
    var node0: String?

    @Option(help: ArgumentHelp("Initial balance of each node's account (bytes, or with KiB/MiB/GiB/TiB).", valueName: "amount"))
    var fund: String = "1TiB"

    @Option(help: ArgumentHelp("Pulse length in milliseconds.", valueName: "ms"))
    var pulseMillis: UInt64 = 1000

    @Option(help: ArgumentHelp("Nodes that are not bookkeepers at genesis (they may bond and be elected).", valueName: "m"))
    var followers: Int = 0

    @Option(help: ArgumentHelp("Each genesis bookkeeper's bond (bytes, or with KiB/MiB/…); also the chain's bond_minimum.", valueName: "amount"))
    var bond: String = "1MiB"

    @Option(help: ArgumentHelp("Pulses in an election cycle.", valueName: "pulses"))
    var electionCyclePulses: UInt64 = 1800

    @Option(help: ArgumentHelp("Pulses an unbonded amount stays slashable before it is paid back.", valueName: "pulses"))
    var unbondDelayPulses: UInt64 = 3600

    func validate() throws {
        guard (1...BookkeeperSet.countMax).contains(nodes) else { throw ValidationError("--nodes must be 1 to \(BookkeeperSet.countMax)") }
        guard Units.parse(fund).map({ $0 > 0 }) == true else { throw ValidationError("--fund '\(fund)' is not an amount such as 1048576 or 1TiB") }
        guard pulseMillis >= 100 else { throw ValidationError("--pulse-millis must be at least 100") }
        guard (0...BookkeeperSet.countMax).contains(followers) else { throw ValidationError("--followers must be 0 to \(BookkeeperSet.countMax)") }
        guard Units.parse(bond).map({ $0 > 0 }) == true else { throw ValidationError("--bond '\(bond)' is not an amount such as 1048576 or 1MiB") }
        guard electionCyclePulses > 0, unbondDelayPulses > 0 else { throw ValidationError("--election-cycle-pulses and --unbond-delay-pulses must be positive") }
    }

    func run() throws {
        let directories = (0..<(nodes + followers)).map { DataDirectory(path: $0 == 0 ? (node0 ?? "\(dir)/node0") : "\(dir)/node\($0)") }
        for directory in directories where directory.isInitialized || FileManager.default.fileExists(atPath: directory.path + "/keys/node.key") {
            throw RuntimeFailure("\(directory.path) already holds a node; pick another --dir")
        }
        let keys = directories.map { _ in SecretKey.generate() }
        let funding = Units.parse(fund) ?? 0, bonded = Units.parse(bond) ?? 1
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var genesis = Genesis.development(chainID: "ledgerd-testnet-" + String(keys[0].publicKey.hex.prefix(8)), timeMillis: now - now % 1000,
                                          bookkeeper: keys[0].publicKey, balances: keys.map { ($0.publicKey.id, funding) })
        genesis.bookkeepers = keys.prefix(nodes).map(\.publicKey.hex)
        genesis.bonds = keys.prefix(nodes).map { Genesis.Bond(bookkeeper: $0.publicKey.hex, amount: bonded) }
        genesis.parameters.pulseMillis = pulseMillis
        genesis.parameters.bondMinimum = bonded
        genesis.parameters.electionCyclePulses = electionCyclePulses
        genesis.parameters.unbondDelayPulses = unbondDelayPulses
        let (state, block) = try genesis.build()
        let ports = try FreePorts.take(2 * keys.count)
        let p2pAddresses = keys.indices.map { Multiaddr(host: "127.0.0.1", port: ports[2 * $0 + 1], peer: keys[$0].peerID).description }
        for (index, directory) in directories.enumerated() {
            try directory.createDirectories()
            try directory.saveKey(keys[index], name: "node")
            try genesis.encodeJSON().write(to: URL(fileURLWithPath: directory.genesisPath))
            try DataDirectory.writeSecret(Hex.encode(SecretKey.generate().bytes) + "\n", to: directory.cookiePath)
            let store = try LedgerStore(path: directory.databasePath, create: true)
            try store.initialize(genesis: block, state: state)
            let config = ConfigFile.render([
                ("http", .string("127.0.0.1:\(ports[2 * index])")), ("p2p", .string("127.0.0.1:\(ports[2 * index + 1])")),
                ("bootstrap", .strings(p2pAddresses.enumerated().filter { $0.offset != index }.map(\.element))), ("bookkeeper", .boolean(true)),
            ])
            let role = index < nodes ? "bookkeeper \(index) of \(nodes)" : "follower \(index - nodes + 1) of \(followers)"
            try Data(("# Written by ledgerd testnet: \(role). Every key is a `ledgerd run` flag.\n" + config).utf8)
                .write(to: URL(fileURLWithPath: directory.configPath))
        }
        print("""
            wrote \(nodes) bookkeepers\(followers > 0 ? " and \(followers) followers" : "") of chain \(genesis.chainID) (genesis \(block.hash))
            \(directories.enumerated().map { "  node\($0.offset)  \($0.element.path)  http://127.0.0.1:\(ports[2 * $0.offset])/" }.joined(separator: "\n"))
            start each with: ledgerd run --data DIR
            """)
    }
}

/// Free TCP ports on loopback, found by binding port 0 and closing again (another process could take one
/// before the node starts; `ledgerd run` then says the port is taken).
enum FreePorts {
    static func take(_ count: Int) throws -> [Int] {
        var ports: [Int] = []
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        while ports.count < count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw RuntimeFailure("cannot open a socket to find a free port") }
            sockets.append(descriptor)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
            }
            guard bound else { throw RuntimeFailure("cannot bind a loopback socket to find a free port") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
