import Ledger

/// Which IDs a state record relates, for the explorer's queries ("credit lines granted by X",
/// "members of O"). Records name them in conventional fields; kinds not listed here (accounts, the
/// most numerous) are not indexed: they are found by their own key.
enum StateIndex {
    static let fieldsByKind: [String: (String, String?)] = [
        "member": ("org", "person"),
        "org": ("id", nil),
        "line": ("low", "high"),
        "iou": ("borrower", "holder"),
        "settlement": ("provider", "consumer"),
        "storage": ("payer", "provider"),
        "forward": ("client", "relay"),
        "dividend": ("org", "person"),
        "income": ("org", "payer"),
        "proposal": ("org", "proposer"),
    ]

    static func entry(for value: CBOR) -> (kind: String, first: ID?, second: ID?)? {
        guard case .map(let map) = value, case .text(let kind)? = map["kind"], let (firstField, secondField) = fieldsByKind[kind] else {
            return nil
        }
        func id(_ field: String?) -> ID? {
            guard let field, case .bytes(let bytes)? = map[field] else { return nil }
            return ID(bytes: bytes)
        }
        return (kind, id(firstField), id(secondField))
    }
}
