/// Reads the fields of a CBOR map that encodes one ledger object, and insists that it has no field
/// the schema does not name: with unknown fields allowed, one object would have many encodings.
///
/// ```swift
/// var fields = try CBORFields(value, schema: "transfer")
/// let to = try fields.id("to")
/// let amount = try fields.unsigned("amount")
/// try fields.finish()
/// ```
public struct CBORFields {
    private var entries: [String: CBOR]
    private let schema: String

    public init(_ value: CBOR, schema: String) throws(DecodeError) {
        guard case .map(let entries) = value else { throw .schema("\(schema): expected a map") }
        self.entries = entries
        self.schema = schema
    }

    public mutating func value(_ key: String) throws(DecodeError) -> CBOR {
        guard let index = exactIndex(key) else { throw .schema("\(schema): missing field '\(key)'") }
        return entries.remove(at: index).value
    }

    public mutating func optional(_ key: String) -> CBOR? { exactIndex(key).map { entries.remove(at: $0).value } }

    public func hasField(_ key: String) -> Bool { exactIndex(key) != nil }

    /// The entry whose key has exactly these bytes: a canonically equivalent key is another field.
    private func exactIndex(_ key: String) -> Dictionary<String, CBOR>.Index? {
        guard let index = entries.index(forKey: key), entries[index].key.sameBytes(as: key) else { return nil }
        return index
    }

    public mutating func unsigned(_ key: String) throws(DecodeError) -> UInt64 {
        guard case .unsigned(let n) = try value(key) else { throw .schema("\(schema): '\(key)' must be an unsigned integer") }
        return n
    }

    public mutating func text(_ key: String, lengthMax: Int = 1024) throws(DecodeError) -> String {
        guard case .text(let s) = try value(key) else { throw .schema("\(schema): '\(key)' must be text") }
        guard s.utf8.count <= lengthMax else { throw .schema("\(schema): '\(key)' is longer than \(lengthMax) bytes") }
        return s
    }

    public mutating func bytes(_ key: String, count: Int? = nil) throws(DecodeError) -> [UInt8] {
        guard case .bytes(let b) = try value(key) else { throw .schema("\(schema): '\(key)' must be a byte string") }
        if let count, b.count != count { throw .schema("\(schema): '\(key)' must be \(count) bytes") }
        return b
    }

    public mutating func id(_ key: String) throws(DecodeError) -> ID {
        ID(bytes: try bytes(key, count: ID.byteCount))!
    }

    public mutating func digest(_ key: String) throws(DecodeError) -> Digest {
        Digest(bytes: try bytes(key, count: Digest.byteCount))!
    }

    public mutating func publicKey(_ key: String) throws(DecodeError) -> PublicKey {
        let raw = try bytes(key, count: 32)
        do { return try PublicKey(bytes: raw) } catch { throw .schema("\(schema): '\(key)' is not a valid public key") }
    }

    public mutating func array(_ key: String, countMax: Int) throws(DecodeError) -> [CBOR] {
        guard case .array(let items) = try value(key) else { throw .schema("\(schema): '\(key)' must be an array") }
        guard items.count <= countMax else { throw .schema("\(schema): '\(key)' has more than \(countMax) items") }
        return items
    }

    public mutating func bool(_ key: String) throws(DecodeError) -> Bool {
        guard case .bool(let b) = try value(key) else { throw .schema("\(schema): '\(key)' must be true or false") }
        return b
    }

    public func finish() throws(DecodeError) {
        if let extra = entries.keys.sorted().first { throw .schema("\(schema): unknown field '\(extra)'") }
    }
}

/// An object with one canonical DAG-CBOR form.
public protocol CBORCodable {
    var cbor: CBOR { get }
    init(cbor: CBOR) throws(DecodeError)
}

extension CBORCodable {
    public var encoded: [UInt8] { CBOREncoder.encode(cbor) }

    public init(encoded: [UInt8]) throws(DecodeError) {
        try self.init(cbor: try CBORDecoder.decode(encoded))
    }
}
