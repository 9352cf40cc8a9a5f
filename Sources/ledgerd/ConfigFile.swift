import Foundation

/// `ledgerd.toml` in the data directory: every key is a `ledgerd run` flag without its dashes, and a flag
/// on the command line wins over the file. The file is a subset of TOML: `key = value` lines, where a
/// value is a "string", an integer, true or false, or an [array of "strings"] (on one line); `#` starts
/// a comment; no tables. Anything else is refused with the line number, so a typo never passes silently.
struct ConfigFile {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case strings([String])
    }

    static let keys: Set<String> = ["http", "p2p", "bootstrap", "external", "max-peers", "bookkeeper", "log-level", "log-format"]

    private(set) var values: [String: Value] = [:]

    init(values: [String: Value] = [:]) { self.values = values }

    /// Reads the file at `path`; an absent file is an empty configuration.
    static func load(_ path: String) throws -> ConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return ConfigFile() }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RuntimeFailure("cannot read \(path) as UTF-8 text")
        }
        return try parse(text, name: path)
    }

    static func parse(_ text: String, name: String) throws -> ConfigFile {
        var config = ConfigFile()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let where_ = "\(name) line \(index + 1)"
            guard let equals = line.firstIndex(of: "=") else { throw RuntimeFailure("\(where_): expected key = value") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard keys.contains(key) else {
                throw RuntimeFailure("\(where_): unknown key '\(key.prefix(40))' (known: \(keys.sorted().joined(separator: ", ")))")
            }
            guard config.values[key] == nil else { throw RuntimeFailure("\(where_): '\(key)' is set twice") }
            config.values[key] = try value(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces), at: where_)
        }
        return config
    }

    private static func stripComment(_ line: String) -> String {
        var inString = false
        for (offset, character) in line.enumerated() {
            if character == "\"" { inString.toggle() }
            if character == "#" && !inString { return String(line.prefix(offset)) }
        }
        return line
    }

    private static func value(_ text: String, at where_: String) throws -> Value {
        if text == "true" { return .boolean(true) }
        if text == "false" { return .boolean(false) }
        if let integer = Int(text) { return .integer(integer) }
        if let string = try quoted(text) { return .string(string) }
        if text.hasPrefix("["), text.hasSuffix("]") {
            let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            guard !inner.isEmpty else { return .strings([]) }
            var items: [String] = []
            for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                let item = part.trimmingCharacters(in: .whitespaces)
                if item.isEmpty { continue }  // a trailing comma
                guard let string = try quoted(item) else { throw RuntimeFailure("\(where_): arrays hold \"strings\" only") }
                items.append(string)
            }
            return .strings(items)
        }
        throw RuntimeFailure("\(where_): '\(text.prefix(40))' is not a \"string\", an integer, true, false or an array of strings")
    }

    private static func quoted(_ text: String) throws -> String? {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return nil }
        let inner = String(text.dropFirst().dropLast())
        guard !inner.contains("\""), !inner.contains("\\") else { throw RuntimeFailure("quotes and backslashes inside strings are not supported") }
        return inner
    }

    func string(_ key: String) throws -> String? {
        switch values[key] {
        case nil: return nil
        case .string(let value): return value
        default: throw RuntimeFailure("ledgerd.toml: '\(key)' must be a \"string\"")
        }
    }

    func integer(_ key: String) throws -> Int? {
        switch values[key] {
        case nil: return nil
        case .integer(let value): return value
        default: throw RuntimeFailure("ledgerd.toml: '\(key)' must be an integer")
        }
    }

    func boolean(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil: return nil
        case .boolean(let value): return value
        default: throw RuntimeFailure("ledgerd.toml: '\(key)' must be true or false")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch values[key] {
        case nil: return nil
        case .strings(let value): return value
        default: throw RuntimeFailure("ledgerd.toml: '\(key)' must be an array of \"strings\"")
        }
    }

    /// The file's text for these values, in the key order given.
    static func render(_ entries: [(String, Value)]) -> String {
        entries.map { key, value in
            switch value {
            case .string(let text): "\(key) = \"\(text)\""
            case .integer(let number): "\(key) = \(number)"
            case .boolean(let flag): "\(key) = \(flag)"
            case .strings(let list): "\(key) = [\(list.map { "\"\($0)\"" }.joined(separator: ", "))]"
            }
        }.joined(separator: "\n") + "\n"
    }
}
