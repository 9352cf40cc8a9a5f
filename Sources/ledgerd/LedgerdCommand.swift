import ArgumentParser
import Storage

@main
struct LedgerdCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "ledgerd",
        abstract: "The ledgerd daemon: keeps a signed block chain of organizations and credit, and serves its API and explorer.",
        discussion: """
            First time:   ledgerd init            (node key, development genesis, admin cookie in ~/.ledgerd)
            Then:         ledgerd run             (API and explorer on http://127.0.0.1:8650)
            Check:        ledgerd verify          (replays the whole chain and checks every certificate and state root)
            A network:    ledgerd testnet --nodes 4 --dir /tmp/net   (four bookkeepers on loopback)
            """,
        version: version,
        subcommands: [InitCommand.self, RunCommand.self, VerifyCommand.self, TestnetCommand.self])
}

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Data directory (default ~/.ledgerd, or $LEDGERD_DATA).", valueName: "dir"))
    var data: String?

    var directory: DataDirectory { DataDirectory(path: data ?? DataDirectory.defaultPath) }
}
