import Foundation

/// Hashes, lists, sets and sorted sets.
extension KeyValueDatabase {
    mutating func collection(_ name: String, _ a: [[UInt8]]) -> RESP {
        switch name {
        case "hset", "hmset", "hsetnx", "hget", "hmget", "hdel", "hgetall", "hlen", "hexists", "hkeys", "hvals", "hincrby": hash(name, a)
        case "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "lindex": list(name, a)
        case "sadd", "srem", "smembers", "sismember", "scard": set(name, a)
        case "zadd", "zrem", "zscore", "zcard", "zrange", "zrevrange", "zrank", "zincrby": sortedSet(name, a)
        default: .error("ERR unknown command '\(name)'")
        }
    }

    // MARK: - Hashes

    mutating func hash(_ name: String, _ a: [[UInt8]]) -> RESP {
        guard let key = a.first else { return Self.wrongArguments(name) }
        var fields: OrderedFields
        switch entries[key] {
        case nil: fields = OrderedFields()
        case .hash(let existing)?: fields = existing
        default: return Self.wrongType
        }
        let rest = Array(a.dropFirst())
        switch name {
        case "hset", "hmset":
            guard !rest.isEmpty, rest.count % 2 == 0 else { return Self.wrongArguments(name) }
            var added = 0
            for index in stride(from: 0, to: rest.count, by: 2) where fields.set(rest[index], rest[index + 1]) { added += 1 }
            put(key, .hash(fields))
            return name == "hset" ? .integer(Int64(added)) : .ok
        case "hsetnx":
            guard rest.count == 2 else { return Self.wrongArguments(name) }
            guard fields[rest[0]] == nil else { return .integer(0) }
            fields.set(rest[0], rest[1])
            put(key, .hash(fields))
            return .integer(1)
        case "hget":
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            return .bulk(fields[rest[0]])
        case "hmget":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            return .array(rest.map { .bulk(fields[$0]) })
        case "hdel":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            let removed = rest.filter { fields.remove($0) }.count
            if removed > 0 { put(key, .hash(fields)) }
            return .integer(Int64(removed))
        case "hgetall":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .array(fields.pairs.flatMap { [RESP.bulk($0.0), RESP.bulk($0.1)] })
        case "hkeys", "hvals":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .array(fields.pairs.map { .bulk(name == "hkeys" ? $0.0 : $0.1) })
        case "hlen":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .integer(Int64(fields.count))
        case "hexists":
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            return .integer(fields[rest[0]] == nil ? 0 : 1)
        default:  // hincrby
            guard rest.count == 2 else { return Self.wrongArguments(name) }
            guard let by = Self.integer(rest[1]) else { return Self.notInteger }
            var current: Int64 = 0
            if let existing = fields[rest[0]] {
                guard let parsed = Self.integer(existing) else { return .error("ERR hash value is not an integer") }
                current = parsed
            }
            let (sum, overflow) = current.addingReportingOverflow(by)
            guard !overflow else { return Self.overflow }
            fields.set(rest[0], Array(String(sum).utf8))
            put(key, .hash(fields))
            return .integer(sum)
        }
    }

    // MARK: - Lists

    mutating func list(_ name: String, _ a: [[UInt8]]) -> RESP {
        guard let key = a.first else { return Self.wrongArguments(name) }
        var items: [[UInt8]]
        switch entries[key] {
        case nil: items = []
        case .list(let existing)?: items = existing
        default: return Self.wrongType
        }
        let rest = Array(a.dropFirst())
        switch name {
        case "lpush", "rpush":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            if name == "lpush" { items.insert(contentsOf: rest.reversed(), at: 0) } else { items += rest }
            put(key, .list(items))
            return .integer(Int64(items.count))
        case "lpop", "rpop":
            guard rest.count <= 1 else { return Self.wrongArguments(name) }
            if let countArgument = rest.first {
                guard let count = Self.integer(countArgument), count >= 0 else { return .error("ERR value is out of range, must be positive") }
                guard !items.isEmpty else { return .array(nil) }
                let taken = Int(min(count, Int64(items.count)))
                let popped = name == "lpop" ? Array(items.prefix(taken)) : Array(items.suffix(taken).reversed())
                items = name == "lpop" ? Array(items.dropFirst(taken)) : Array(items.dropLast(taken))
                put(key, .list(items))
                return .array(popped.map { .bulk($0) })
            }
            guard !items.isEmpty else { return .null }
            let popped = name == "lpop" ? items.removeFirst() : items.removeLast()
            put(key, .list(items))
            return .bulk(popped)
        case "lrange":
            guard rest.count == 2 else { return Self.wrongArguments(name) }
            guard let start = Self.integer(rest[0]), let end = Self.integer(rest[1]) else { return Self.notInteger }
            guard let range = Self.range(start, end, count: items.count) else { return .array([]) }
            return .array(items[range].map { .bulk($0) })
        case "llen":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .integer(Int64(items.count))
        default:  // lindex
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            guard let index = Self.integer(rest[0]) else { return Self.notInteger }
            let position = index < 0 ? Int64(items.count) + index : index
            guard position >= 0, position < Int64(items.count) else { return .null }
            return .bulk(items[Int(position)])
        }
    }

    // MARK: - Sets

    mutating func set(_ name: String, _ a: [[UInt8]]) -> RESP {
        guard let key = a.first else { return Self.wrongArguments(name) }
        var members: Set<[UInt8]>
        switch entries[key] {
        case nil: members = []
        case .set(let existing)?: members = existing
        default: return Self.wrongType
        }
        let rest = Array(a.dropFirst())
        switch name {
        case "sadd":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            let added = rest.filter { members.insert($0).inserted }.count
            put(key, .set(members))
            return .integer(Int64(added))
        case "srem":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            let removed = rest.filter { members.remove($0) != nil }.count
            if removed > 0 { put(key, .set(members)) }
            return .integer(Int64(removed))
        case "smembers":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .array(Self.ordered(members).map { .bulk($0) })
        case "sismember":
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            return .integer(members.contains(rest[0]) ? 1 : 0)
        default:  // scard
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .integer(Int64(members.count))
        }
    }

    /// Members in a stable order: numerically when all are integers (as Redis's integer sets are), else bytewise.
    static func ordered(_ members: Set<[UInt8]>) -> [[UInt8]] {
        let numbers = members.compactMap { member in integer(member).map { ($0, member) } }
        if numbers.count == members.count { return numbers.sorted { $0.0 < $1.0 }.map(\.1) }
        return members.sorted { $0.lexicographicallyPrecedes($1) }
    }

    // MARK: - Sorted sets

    mutating func sortedSet(_ name: String, _ a: [[UInt8]]) -> RESP {
        guard let key = a.first else { return Self.wrongArguments(name) }
        var scores: [[UInt8]: Double]
        switch entries[key] {
        case nil: scores = [:]
        case .sortedSet(let existing)?: scores = existing
        default: return Self.wrongType
        }
        let rest = Array(a.dropFirst())
        switch name {
        case "zadd":
            guard !rest.isEmpty, rest.count % 2 == 0 else { return rest.isEmpty ? Self.wrongArguments(name) : Self.syntax }
            var pairs: [(Double, [UInt8])] = []
            for index in stride(from: 0, to: rest.count, by: 2) {
                guard let score = Self.score(rest[index]) else { return Self.notFloat }
                pairs.append((score, rest[index + 1]))
            }
            var added = 0
            for (score, member) in pairs where scores.updateValue(score, forKey: member) == nil { added += 1 }
            put(key, .sortedSet(scores))
            return .integer(Int64(added))
        case "zincrby":
            guard rest.count == 2 else { return Self.wrongArguments(name) }
            guard let by = Self.score(rest[0]) else { return Self.notFloat }
            let sum = (scores[rest[1]] ?? 0) + by
            guard !sum.isNaN else { return .error("ERR resulting score is not a number (NaN)") }
            scores[rest[1]] = sum
            put(key, .sortedSet(scores))
            return .bulk(Self.format(sum))
        case "zrem":
            guard !rest.isEmpty else { return Self.wrongArguments(name) }
            let removed = rest.filter { scores.removeValue(forKey: $0) != nil }.count
            if removed > 0 { put(key, .sortedSet(scores)) }
            return .integer(Int64(removed))
        case "zscore":
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            return .bulk(scores[rest[0]].map(Self.format))
        case "zcard":
            guard rest.isEmpty else { return Self.wrongArguments(name) }
            return .integer(Int64(scores.count))
        case "zrank":
            guard rest.count == 1 else { return Self.wrongArguments(name) }
            guard scores[rest[0]] != nil else { return .null }
            return .integer(Int64(Self.ranked(scores).firstIndex { $0.1 == rest[0] } ?? 0))
        default:  // zrange, zrevrange
            guard rest.count == 2 || rest.count == 3 else { return rest.count < 2 ? Self.wrongArguments(name) : Self.syntax }
            let withScores = rest.count == 3
            if withScores && String(decoding: rest[2], as: UTF8.self).lowercased() != "withscores" { return Self.syntax }
            guard let start = Self.integer(rest[0]), let end = Self.integer(rest[1]) else { return Self.notInteger }
            var ranked = Self.ranked(scores)
            if name == "zrevrange" { ranked.reverse() }
            guard let range = Self.range(start, end, count: ranked.count) else { return .array([]) }
            return .array(ranked[range].flatMap { withScores ? [RESP.bulk($0.1), RESP.bulk(Self.format($0.0))] : [RESP.bulk($0.1)] })
        }
    }

    /// By score, then by member bytewise (Redis's order).
    static func ranked(_ scores: [[UInt8]: Double]) -> [(Double, [UInt8])] {
        scores.map { ($0.value, $0.key) }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.lexicographicallyPrecedes($1.1) }
    }

    /// A score as Redis reads it: a decimal or `inf`, `+inf`, `-inf`; never NaN.
    static func score(_ bytes: [UInt8]) -> Double? {
        guard let text = String(bytes: bytes, encoding: .utf8), !text.isEmpty, text.count <= 64 else { return nil }
        switch text.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default:
            guard let value = Double(text), !value.isNaN, text.lowercased() != "nan" else { return nil }
            return value
        }
    }

    /// A score as Redis writes it: integers without a point, others in the shortest form that reads back.
    static func format(_ score: Double) -> [UInt8] {
        if score == .infinity { return Array("inf".utf8) }
        if score == -.infinity { return Array("-inf".utf8) }
        if score == score.rounded(), abs(score) < 1e17 { return Array(String(Int64(score)).utf8) }
        return Array("\(score)".utf8)
    }
}
