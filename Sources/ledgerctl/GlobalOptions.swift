import ArgumentParser
import Foundation
import Ledger
import Storage

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Node URL (default: the address the node in --data wrote, else http://127.0.0.1:8650).", valueName: "url"))
    var node: String?

    @Option(help: ArgumentHelp("Data directory with the keys and admin cookie (default ~/.ledgerd, or $LEDGERD_DATA).", valueName: "dir"))
    var data: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("Sign with this local key instead of the node's key.", valueName: "name"))
    var signer: String = "node"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    var directory: DataDirectory { DataDirectory(path: data ?? DataDirectory.defaultPath) }

    var client: NodeClient {
        get throws {
            var url = node
            if url == nil, let written = FileManager.default.contents(atPath: directory.httpAddressPath) {
                url = String(decoding: written, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let base = url ?? "http://127.0.0.1:8650"
            guard let parsed = URL(string: base), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                throw CLIError("--node '\(base)' is not an http:// URL")
            }
            return NodeClient(base: base.hasSuffix("/") ? String(base.dropLast()) : base, cookie: try? directory.readCookie())
        }
    }

    func key(_ name: String? = nil) throws -> SecretKey {
        do { return try directory.loadKey(name ?? signer) } catch { throw CLIError("\(error)") }
    }

    /// An account given as an ID (ld1…) or as the name of a local key.
    func resolve(_ text: String) throws -> ID {
        if text.hasPrefix("ld1") {
            do { return try ID(text: text) } catch { throw CLIError("'\(text)': \(error)") }
        }
        guard DataDirectory.validKeyName(text), let key = try? directory.loadKey(text) else {
            throw CLIError("'\(text)' is neither an ID (ld1…) nor the name of a local key (see 'ledgerctl key list')")
        }
        return key.publicKey.id
    }

    /// The local key whose ID is `id`, if this data directory holds it.
    func localKey(for id: ID) -> SecretKey? {
        directory.keyNames().lazy.compactMap { try? directory.loadKey($0) }.first { $0.publicKey.id == id }
    }

    func output(_ object: [String: Any], text: () -> String) {
        if json { print(JSONText.render(object)) } else { print(text()) }
    }
}

/// A one-line failure: ArgumentParser prints it as "Error: …" and exits with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum JSONText {
    static func render(_ object: Any, compact: Bool = false) -> String {
        let options: JSONSerialization.WritingOptions = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard JSONSerialization.isValidJSONObject(object), let data = try? JSONSerialization.data(withJSONObject: object, options: options) else {
            return "\(object)"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String { self[key].map { "\($0)" } ?? "" }
    func uint(_ key: String) -> UInt64 { (self[key] as? NSNumber)?.uint64Value ?? 0 }
    func list(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    func object(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
}
