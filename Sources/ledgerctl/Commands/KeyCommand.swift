import ArgumentParser
import Ledger

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Show the signing key in use, or manage local keys.",
        discussion: "Example: ledgerctl key            (the node's key)\n         ledgerctl key --as alice",
        subcommands: [Show.self, New.self, List.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the key that --as selects (default: node).",
                                                        discussion: "Example: ledgerctl key show --as alice")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let key = try options.key()
            let view: [String: Any] = ["id": key.publicKey.id.text, "name": options.signer, "public_key": key.publicKey.hex]
            options.output(view) { "\(options.signer)  \(key.publicKey.id)\npublic key  \(key.publicKey.hex)" }
        }
    }

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new", abstract: "Create a new local key.",
                                                        discussion: "Example: ledgerctl key new alice")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Name of the key (letters, digits, '-', '_').") var name: String

        func run() async throws {
            let key = SecretKey.generate()
            do { try options.directory.saveKey(key, name: name) } catch { throw CLIError("\(error)") }
            let view: [String: Any] = ["id": key.publicKey.id.text, "name": name, "public_key": key.publicKey.hex]
            options.output(view) { "created key \(name)  \(key.publicKey.id)" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List local keys.", discussion: "Example: ledgerctl key list --json")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let keys: [[String: Any]] = options.directory.keyNames().compactMap { name in
                guard let key = try? options.directory.loadKey(name) else { return nil }
                return ["id": key.publicKey.id.text, "name": name, "public_key": key.publicKey.hex]
            }
            options.output(["keys": keys]) { keys.map { "\($0.string("name"))\t\($0.string("id"))" }.joined(separator: "\n") }
        }
    }
}
