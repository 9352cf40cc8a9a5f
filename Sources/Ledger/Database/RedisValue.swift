/// A value of a database MiMei (specs/content.md §Database MiMei): one of the Redis types. Hash fields
/// keep the order they were added in, as Redis's small hashes do, so that HGETALL answers alike.
public enum RedisValue: Equatable, Sendable {
    case string([UInt8])
    case hash(OrderedFields)
    case list([[UInt8]])
    case set(Set<[UInt8]>)
    case sortedSet([[UInt8]: Double])

    public var typeName: String {
        switch self {
        case .string: "string"
        case .hash: "hash"
        case .list: "list"
        case .set: "set"
        case .sortedSet: "zset"
        }
    }

    /// Empty containers are removed, as in Redis.
    public var isEmpty: Bool {
        switch self {
        case .string: false
        case .hash(let fields): fields.isEmpty
        case .list(let items): items.isEmpty
        case .set(let members): members.isEmpty
        case .sortedSet(let members): members.isEmpty
        }
    }
}

/// Fields in insertion order, with lookup by name.
public struct OrderedFields: Equatable, Sendable {
    public private(set) var names: [[UInt8]] = []
    private var values: [[UInt8]: [UInt8]] = [:]

    public init() {}

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }
    public subscript(name: [UInt8]) -> [UInt8]? { values[name] }
    public var pairs: [([UInt8], [UInt8])] { names.map { ($0, values[$0] ?? []) } }

    /// Sets a field; whether it is new.
    @discardableResult
    public mutating func set(_ name: [UInt8], _ value: [UInt8]) -> Bool {
        let new = values.updateValue(value, forKey: name) == nil
        if new { names.append(name) }
        return new
    }

    /// Removes a field; whether it was there.
    @discardableResult
    public mutating func remove(_ name: [UInt8]) -> Bool {
        guard values.removeValue(forKey: name) != nil else { return false }
        if let index = names.firstIndex(of: name) { names.remove(at: index) }
        return true
    }
}
