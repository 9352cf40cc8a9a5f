import ArgumentParser
import Foundation
import Ledger
import Storage

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Follow the chain's headers as a light client: only commit certificates and the bookkeeper sets the headers name.",
        discussion: """
            From a trusted point — block 0 of a genesis file you hold (the data directory's genesis.json unless
            --genesis names another), or a header you name with --trust HEIGHT:HASH — to --height (default:
            the node's latest), skipping ahead where more than a third of the trusted set signed, and
            bisecting where not. The node is believed in nothing a hash or a signature does not prove.
            Example: ledgerctl verify --light --genesis ~/network/genesis.json
            """)
    @OptionGroup var options: GlobalOptions
    @Flag(help: "Verify as a light client (the only mode: a full replay is 'ledgerd verify').") var light = false
    @Option(help: "The height to verify (default: the node's latest).") var height: UInt64?
    @Option(help: ArgumentHelp("The genesis file whose bookkeepers you trust (default: DIR/genesis.json).", valueName: "file")) var genesis: String?
    @Option(help: ArgumentHelp("Trust exactly this header instead: its height and hash (hex).", valueName: "height:hash")) var trust: String?

    func run() async throws {
        guard light else { throw CLIError("say --light: ledgerctl verifies as a light client; 'ledgerd verify' replays the whole chain") }
        let client = try options.client
        var lightClient = LightClient(client: client)
        let anchor = try LightAnchor.parse(genesis: genesis, trust: trust, directory: options.directory)
        let trusted = try await lightClient.anchor(genesis: anchor.genesis, trust: anchor.trust, parameters: anchor.parameters)
        var target = height ?? 0
        if height == nil { target = try await client.get("/api/v1/status").uint("height") }
        let verified = try await lightClient.verify(to: target, from: trusted)
        let view: [String: Any] = [
            "height": verified.header.height, "hash": verified.header.hash.hex, "state_root": verified.header.stateRoot.hex,
            "from_height": trusted.header.height, "headers_checked": lightClient.headersChecked, "skips": lightClient.skips, "verified": true,
        ]
        options.output(view) {
            """
            verified block \(verified.header.height) \(verified.header.hash)
              from trusted block \(trusted.header.height), checking \(lightClient.headersChecked) header(s) (\(lightClient.skips) skip(s))
              state root \(verified.header.stateRoot)
            """
        }
    }
}

/// --genesis FILE or --trust HEIGHT:HASH, as `verify --light` and `proof` take them.
struct LightAnchor {
    var genesis: Genesis?
    var trust: (height: UInt64, hash: Digest)?
    /// With --trust: the data directory's genesis file, if any, for the chain's trusting period only.
    var parameters: Genesis?

    static func parse(genesis path: String?, trust: String?, directory: DataDirectory) throws -> LightAnchor {
        if let trust {
            guard path == nil else { throw CLIError("give --genesis or --trust, not both") }
            let parts = trust.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let height = UInt64(parts[0]), let hash = Digest(hex: parts[1]) else {
                throw CLIError("--trust '\(trust)' is not HEIGHT:HASH with a 64-hex block hash")
            }
            let known = FileManager.default.contents(atPath: directory.genesisPath).flatMap { try? Genesis.decode(json: $0) }
            return LightAnchor(trust: (height, hash), parameters: known)
        }
        let file = path ?? directory.genesisPath
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("no genesis file at \(file) to take the bookkeepers from; pass --genesis FILE or --trust HEIGHT:HASH")
        }
        do { return LightAnchor(genesis: try Genesis.decode(json: data)) } catch { throw CLIError("\(file) is not a usable genesis file: \(error)") }
    }
}
