import ArgumentParser
import Foundation
import Ledger
import Storage

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node: its key, a development genesis that funds it, the admin cookie, the database.",
        discussion: "Example: ledgerd init --data /tmp/node1")

    @OptionGroup var options: DataOption

    @Option(help: ArgumentHelp("Use this genesis file instead of a new development chain.", valueName: "file"))
    var genesis: String?

    @Option(help: ArgumentHelp("Initial balance of the node's own account on a development chain (bytes, or with KiB/MiB/GiB/TiB).", valueName: "amount"))
    var fund: String = "1TiB"

    func run() throws {
        let directory = options.directory
        guard !directory.isInitialized else {
            throw RuntimeFailure("\(directory.path) already holds a ledger; use another --data directory")
        }
        guard let funding = Units.parse(fund), funding > 0 else { throw ValidationError("--fund '\(fund)' is not an amount such as 1048576 or 1TiB") }
        try directory.createDirectories()
        let nodeKey: SecretKey
        if let existing = try? directory.loadKey("node") { nodeKey = existing } else {
            nodeKey = SecretKey.generate()
            try directory.saveKey(nodeKey, name: "node")
        }
        let document: Genesis
        if let genesis {
            guard let data = FileManager.default.contents(atPath: genesis) else { throw RuntimeFailure("cannot read genesis file \(genesis)") }
            document = try Genesis.decode(json: data)
        } else {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let chain = "ledgerd-dev-" + String(nodeKey.publicKey.hex.prefix(8))
            document = Genesis.development(chainID: chain, timeMillis: now - now % 1000, bookkeeper: nodeKey.publicKey, balances: [(nodeKey.publicKey.id, funding)])
        }
        let (state, block) = try document.build()
        try document.encodeJSON().write(to: URL(fileURLWithPath: directory.genesisPath))
        try DataDirectory.writeSecret(Hex.encode(SecretKey.generate().bytes) + "\n", to: directory.cookiePath)
        let store = try LedgerStore(path: directory.databasePath, create: true)
        try store.initialize(genesis: block, state: state)
        print("""
            initialized \(directory.path)
              chain       \(document.chainID)
              node ID     \(nodeKey.publicKey.id)
              genesis     \(block.hash)
            start it with: ledgerd run --data \(directory.path)
            """)
    }
}
