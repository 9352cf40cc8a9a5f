/// A value stored in a leaf of the state tree. Every record's map carries a `kind` field, so a leaf can
/// be read without knowing in advance what it holds (specs/state-tree.md lists the kinds).
public protocol StateRecord: Sendable {
    static var kind: String { get }
    /// The record's fields, without `kind`.
    var fields: [String: CBOR] { get }
    init(fields: inout CBORFields) throws(DecodeError)
}

extension StateRecord {
    public var cbor: CBOR {
        var map = fields
        map["kind"] = .text(Self.kind)
        return .map(map)
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: Self.kind)
        guard case .text(let kind) = try fields.value("kind"), kind == Self.kind else {
            throw .schema("state record: expected kind '\(Self.kind)'")
        }
        try self.init(fields: &fields)
        try fields.finish()
    }
}

/// The kind named in a leaf value, if it has one.
public func stateRecordKind(_ value: CBOR) -> String? {
    guard case .map(let map) = value, case .text(let kind)? = map["kind"] else { return nil }
    return kind
}
