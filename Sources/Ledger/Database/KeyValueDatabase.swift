/// One database MiMei's data and the Redis commands on it (specs/content.md §Database MiMei): strings,
/// hashes, lists, sets and sorted sets, with Redis 7's replies and error texts, so that a Redis client
/// cannot tell the difference for the commands listed there. Pure: the server feeds it commands and
/// commits the keys it changed (`changed`) as a new version.
public struct KeyValueDatabase: Sendable, Equatable {
    public private(set) var entries: [[UInt8]: RedisValue] = [:]
    /// Keys written since the last commit.
    public var changed: Set<[UInt8]> = []

    public init(entries: [[UInt8]: RedisValue] = [:]) { self.entries = entries }

    /// Commands that change nothing (a read-only client may run them).
    public static let readOnly: Set<String> = [
        "get", "mget", "strlen", "exists", "type", "keys", "dbsize", "ttl", "pttl", "hget", "hmget", "hgetall", "hlen", "hexists", "hkeys", "hvals",
        "lrange", "llen", "lindex", "smembers", "sismember", "scard", "zscore", "zcard", "zrange", "zrevrange", "zrank", "getrange", "randomkey",
    ]

    /// Every data command this database answers.
    public static let commands: Set<String> = readOnly.union([
        "set", "setnx", "getset", "mset", "msetnx", "incr", "decr", "incrby", "decrby", "append", "del", "unlink", "flushdb", "rename",
        "expire", "pexpire", "persist", "hset", "hmset", "hsetnx", "hdel", "hincrby", "lpush", "rpush", "lpop", "rpop", "sadd", "srem",
        "zadd", "zrem", "zincrby", "getdel",
    ])

    public static func wrongArguments(_ name: String) -> RESP { .error("ERR wrong number of arguments for '\(name)' command") }
    static let wrongType = RESP.error("WRONGTYPE Operation against a key holding the wrong kind of value")
    static let notInteger = RESP.error("ERR value is not an integer or out of range")
    static let notFloat = RESP.error("ERR value is not a valid float")
    static let syntax = RESP.error("ERR syntax error")
    static let overflow = RESP.error("ERR increment or decrement would overflow")

    /// Runs one command (name lowercased, arguments after it).
    public mutating func execute(_ name: String, _ arguments: [[UInt8]]) -> RESP {
        let a = arguments
        func arity(_ count: Int, atLeast: Bool = false) -> Bool { atLeast ? a.count >= count : a.count == count }
        switch name {
        case "get":
            guard arity(1) else { return Self.wrongArguments(name) }
            guard case .some(let value) = stringValue(a[0]) else { return Self.wrongType }
            return .bulk(value)
        case "getdel":
            guard arity(1) else { return Self.wrongArguments(name) }
            guard case .some(let value) = stringValue(a[0]) else { return Self.wrongType }
            if value != nil { remove(a[0]) }
            return .bulk(value)
        case "set": return set(a)
        case "setnx":
            guard arity(2) else { return Self.wrongArguments(name) }
            guard entries[a[0]] == nil else { return .integer(0) }
            put(a[0], .string(a[1]))
            return .integer(1)
        case "getset":
            guard arity(2) else { return Self.wrongArguments(name) }
            guard case .some(let old) = stringValue(a[0]) else { return Self.wrongType }
            put(a[0], .string(a[1]))
            return .bulk(old)
        case "mget":
            guard arity(1, atLeast: true) else { return Self.wrongArguments(name) }
            return .array(a.map { key in
                guard case .some(let value) = stringValue(key) else { return .null }
                return .bulk(value)
            })
        case "mset", "msetnx":
            guard a.count >= 2, a.count % 2 == 0 else { return Self.wrongArguments(name) }
            if name == "msetnx", stride(from: 0, to: a.count, by: 2).contains(where: { entries[a[$0]] != nil }) { return .integer(0) }
            for index in stride(from: 0, to: a.count, by: 2) { put(a[index], .string(a[index + 1])) }
            return name == "mset" ? .ok : .integer(1)
        case "incr", "decr":
            guard arity(1) else { return Self.wrongArguments(name) }
            return increment(a[0], by: name == "incr" ? 1 : -1)
        case "incrby", "decrby":
            guard arity(2) else { return Self.wrongArguments(name) }
            guard let by = Self.integer(a[1]) else { return Self.notInteger }
            if name == "decrby" && by == .min { return Self.overflow }
            return increment(a[0], by: name == "incrby" ? by : -by)
        case "append":
            guard arity(2) else { return Self.wrongArguments(name) }
            guard case .some(let old) = stringValue(a[0]) else { return Self.wrongType }
            let value = (old ?? []) + a[1]
            put(a[0], .string(value))
            return .integer(Int64(value.count))
        case "strlen":
            guard arity(1) else { return Self.wrongArguments(name) }
            guard case .some(let value) = stringValue(a[0]) else { return Self.wrongType }
            return .integer(Int64(value?.count ?? 0))
        case "getrange":
            guard arity(3) else { return Self.wrongArguments(name) }
            guard let start = Self.integer(a[1]), let end = Self.integer(a[2]) else { return Self.notInteger }
            guard case .some(let value) = stringValue(a[0]) else { return Self.wrongType }
            guard let bytes = value, let range = Self.range(start, end, count: bytes.count) else { return .bulk([]) }
            return .bulk(Array(bytes[range]))
        case "del", "unlink":
            guard arity(1, atLeast: true) else { return Self.wrongArguments(name) }
            return .integer(Int64(a.filter { remove($0) }.count))
        case "exists":
            guard arity(1, atLeast: true) else { return Self.wrongArguments(name) }
            return .integer(Int64(a.filter { entries[$0] != nil }.count))
        case "type":
            guard arity(1) else { return Self.wrongArguments(name) }
            return .simple(entries[a[0]]?.typeName ?? "none")
        case "keys":
            guard arity(1) else { return Self.wrongArguments(name) }
            guard a[0].count <= GlobPattern.patternBytesMax else { return .error("ERR the pattern is longer than \(GlobPattern.patternBytesMax) bytes") }
            var glob = GlobPattern()
            return .array(entries.keys.filter { glob.matches(a[0], $0) }.sorted { $0.lexicographicallyPrecedes($1) }.map { .bulk($0) })
        case "randomkey":
            guard arity(0) else { return Self.wrongArguments(name) }
            return entries.keys.randomElement().map { .bulk($0) } ?? .null
        case "dbsize": return arity(0) ? .integer(Int64(entries.count)) : Self.wrongArguments(name)
        case "flushdb":
            guard a.count <= 1 else { return Self.syntax }
            changed.formUnion(entries.keys)
            entries.removeAll()
            return .ok
        case "rename":
            guard arity(2) else { return Self.wrongArguments(name) }
            guard let value = entries[a[0]] else { return .error("ERR no such key") }
            remove(a[0])
            put(a[1], value)
            return .ok
        case "ttl", "pttl":
            guard arity(1) else { return Self.wrongArguments(name) }
            return .integer(entries[a[0]] == nil ? -2 : -1)
        case "persist":
            guard arity(1) else { return Self.wrongArguments(name) }
            return .integer(0)
        case "expire", "pexpire":
            return .error("ERR a database MiMei keeps every version: keys do not expire")
        default: return collection(name, a)
        }
    }

    // MARK: - Strings

    mutating func set(_ a: [[UInt8]]) -> RESP {
        guard a.count >= 2 else { return Self.wrongArguments("set") }
        var onlyIfAbsent = false, onlyIfPresent = false, returnOld = false
        for option in a.dropFirst(2) {
            switch String(decoding: option, as: UTF8.self).lowercased() {
            case "nx" where !onlyIfPresent: onlyIfAbsent = true
            case "xx" where !onlyIfAbsent: onlyIfPresent = true
            case "get": returnOld = true
            case "keepttl": continue
            case "ex", "px", "exat", "pxat": return .error("ERR a database MiMei keeps every version: keys do not expire")
            default: return Self.syntax
            }
        }
        var old: [UInt8]?
        if returnOld {
            guard case .some(let value) = stringValue(a[0]) else { return Self.wrongType }
            old = value
        }
        let exists = entries[a[0]] != nil
        if (onlyIfAbsent && exists) || (onlyIfPresent && !exists) { return returnOld ? .bulk(old) : .null }
        put(a[0], .string(a[1]))
        return returnOld ? .bulk(old) : .ok
    }

    mutating func increment(_ key: [UInt8], by: Int64) -> RESP {
        guard case .some(let old) = stringValue(key) else { return Self.wrongType }
        let current: Int64
        if let old {
            guard let parsed = Self.integer(old) else { return Self.notInteger }
            current = parsed
        } else { current = 0 }
        let (sum, overflow) = current.addingReportingOverflow(by)
        guard !overflow else { return Self.overflow }
        put(key, .string(Array(String(sum).utf8)))
        return .integer(sum)
    }

    /// A string key's bytes: `.some(nil)` when absent, nil for a key of another type.
    func stringValue(_ key: [UInt8]) -> [UInt8]?? {
        switch entries[key] {
        case nil: return .some(nil)
        case .string(let bytes)?: return .some(bytes)
        default: return nil
        }
    }

    // MARK: - Storage

    mutating func put(_ key: [UInt8], _ value: RedisValue) {
        entries[key] = value.isEmpty ? nil : value
        changed.insert(key)
    }

    @discardableResult
    mutating func remove(_ key: [UInt8]) -> Bool {
        guard entries.removeValue(forKey: key) != nil else { return false }
        changed.insert(key)
        return true
    }

    /// Puts back a key's earlier value (nil: absent), undoing a command.
    public mutating func restore(_ key: [UInt8], _ value: RedisValue?) {
        entries[key] = value
        changed.insert(key)
    }

    /// Replaces all entries (a version loaded from the store).
    public mutating func load(_ entries: [[UInt8]: RedisValue]) {
        self.entries = entries
        changed = []
    }

    /// Redis's integers: optional minus, digits, no leading zeros or plus, in range.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 20, let text = String(bytes: bytes, encoding: .utf8), let value = Int64(text) else { return nil }
        guard String(value) == text else { return nil }
        return value
    }

    /// Redis's index range: negative from the end, clamped; nil when empty.
    static func range(_ start: Int64, _ end: Int64, count: Int) -> Range<Int>? {
        let n = Int64(count)
        var first = start < 0 ? max(0, n + start) : start, last = end < 0 ? n + end : end
        if last >= n { last = n - 1 }
        if first < 0 { first = 0 }
        guard first <= last, first < n, last >= 0 else { return nil }
        return Int(first)..<Int(last + 1)
    }
}
