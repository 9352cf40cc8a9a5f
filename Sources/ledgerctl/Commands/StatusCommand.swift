import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the node's chain, height, pulse and pending transactions.",
        discussion: "Example: ledgerctl status --json")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let status = try await options.client.get("/api/v1/status")
        options.output(status) {
            """
            chain         \(status.string("chain"))
            height        \(status.string("height"))  (block \(status.string("latest_block")))
            pulse         \(status.string("pulse"))  (\(status.string("pulse_millis")) ms)
            state root    \(status.string("state_root"))
            pending       \(status.string("mempool")) transactions
            node          \(status.string("node_id"))\(status["bookkeeper"] as? Bool == true ? "  (bookkeeper)" : "")
            peer id       \(status.string("peer_id"))
            peers         \(status.string("peers"))
            sync          \(Self.sync(status["sync"] as? [String: Any] ?? [:]))
            """
        }
    }

    static func sync(_ sync: [String: Any]) -> String {
        sync["syncing"] as? Bool == true ? "catching up: \(sync.string("behind")) blocks behind, target height \(sync.string("target"))" : "up to date"
    }
}
