import Credit
import Foundation
import Ledger

/// How ledger objects look in the HTTP API's JSON (specs/openapi.yaml). IDs are in their `ld1…` text
/// form, hashes and keys in hex, amounts as JSON integers; every object carries its ID as `"id"`.
public enum JSONView {
    public static func header(_ header: BlockHeader) -> [String: Any] {
        [
            "id": header.hash.hex, "hash": header.hash.hex, "chain": header.chain, "height": header.height, "pulse": header.pulse,
            "time_ms": header.timeMillis, "previous": header.previous.hex, "tx_root": header.transactionRoot.hex,
            "state_root": header.stateRoot.hex, "proposer": header.proposer.text, "tx_count": header.transactionCount,
            "cid": CID.dagCBOR(header.encoded).text,
        ]
    }

    public static func block(_ block: Block) -> [String: Any] {
        var view = header(block.header)
        view["transactions"] = block.transactions.map { transaction($0) }
        view["seals"] = block.seals.map { ["bookkeeper": $0.bookkeeper.id.text, "public_key": $0.bookkeeper.hex, "signature": $0.signature.hex] }
        return view
    }

    public static func transaction(_ signed: SignedTransaction, height: UInt64? = nil, position: Int? = nil) -> [String: Any] {
        let tx = signed.transaction
        var view: [String: Any] = [
            "id": signed.id.hex, "type": tx.type, "chain": tx.chain, "origin": tx.origin.text, "nonce": tx.nonce,
            "expiry": tx.expiry, "signers": tx.signers.map { ["id": $0.id.text, "public_key": $0.hex] },
            "signatures": signed.signatures.map(\.hex), "body": cbor(tx.body), "encoded": Hex.encode(signed.encoded),
        ]
        if let height { view["height"] = height }
        if let position { view["position"] = position }
        return view
    }

    /// A CBOR value as JSON: 20-byte strings read as IDs, other bytes as hex.
    public static func cbor(_ value: CBOR) -> Any {
        switch value {
        case .unsigned(let n): return n
        case .negative(let n): return n < UInt64(Int64.max) ? -Int64(n) - 1 : "-\(n)-1"
        case .bytes(let bytes): return bytes.count == ID.byteCount ? ID(bytes: bytes)!.text : Hex.encode(bytes)
        case .text(let text): return text
        case .array(let items): return items.map(cbor)
        case .map(let entries): return entries.mapValues(cbor)
        case .bool(let flag): return flag
        case .null: return NSNull()
        case .link(let cid): return "b" + Hex.encode(cid)
        }
    }

    public static func account(_ id: ID, _ account: Account) -> [String: Any] {
        ["id": id.text, "balance": account.balance, "balance_display": Units.display(account.balance), "nonce": account.nonce]
    }

    public static func organization(_ org: Organization) -> [String: Any] {
        [
            "id": org.id.text, "name": org.name, "description": org.description, "founder": org.founder.text,
            "created_height": org.createdHeight, "member_count": org.memberCount, "supervisor_count": org.supervisorCount,
        ]
    }

    public static func membership(_ membership: Membership) -> [String: Any] {
        ["id": membership.person.text, "organization": membership.organization.text, "person": membership.person.text,
         "role": membership.role.rawValue, "since_height": membership.sinceHeight]
    }

    public static func creditLine(_ line: CreditLine, pulse: UInt64) -> [String: Any] {
        [
            "id": CreditLine.stateKey(authorizer: line.authorizer, authorized: line.authorized).text,
            "from": line.authorizer.text, "to": line.authorized.text, "unit": line.unit, "limit": line.limit,
            "limit_display": Units.display(line.limit), "expiry": line.expiry, "granted_height": line.grantedHeight,
            "changed_height": line.changedHeight, "active": line.isActive(atPulse: pulse),
        ]
    }
}
