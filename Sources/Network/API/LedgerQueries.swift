import Credit
import Foundation
import Hummingbird
import Ledger
import Storage

/// The read side of a node, as JSON-ready dictionaries: the API serves them as JSON and the explorer
/// renders the same dictionaries as HTML, so the two can never disagree.
public struct LedgerQueries: Sendable {
    let node: LedgerNode
    let info: NodeInfo

    public init(node: LedgerNode, info: NodeInfo) {
        self.node = node
        self.info = info
    }

    func status() async throws -> [String: Any] {
        let latest = await node.latest
        let pulse = await node.currentPulse
        let mempool = await node.mempoolCount
        let state = await node.state
        let transactions = try await storeCall { try node.store.transactionCount() }
        return [
            "chain": latest.chain, "height": latest.height, "latest_block": latest.hash.hex, "latest_time_ms": latest.timeMillis,
            "latest_pulse": latest.pulse, "pulse": pulse, "state_root": latest.stateRoot.hex, "mempool": mempool,
            "transactions": transactions, "node_id": info.nodeKey.id.text, "node_public_key": info.nodeKey.hex,
            "version": info.version, "p2p_listen": info.p2pAddress, "p2p_enabled": false,
            "bookkeepers": (state.bookkeepers?.keys ?? []).map(\.id.text),
            "pulse_millis": state.parameters?.pulseMillis ?? 0, "transaction_types": node.machine.types,
        ]
    }

    /// Headers, newest first, below `before` (exclusive) when given.
    func blocks(before: Substring?, limit: Substring?) async throws -> [String: Any] {
        let latest = await node.latest.height
        let count = try Parse.limit(limit, default: 20, max: 200)
        var from = latest
        if let before {
            let height = try Parse.height(before)
            guard height > 0 else { return ["blocks": [Any]()] }
            from = min(latest, height - 1)
        }
        let headers = try await storeCall { try node.store.headers(from: from, count: count) }
        return ["blocks": headers.map(JSONView.header)]
    }

    /// A block by height or by hash.
    func block(_ reference: Substring) async throws -> [String: Any] {
        let height: UInt64
        if let number = UInt64(reference) {
            height = number
        } else {
            let hash = try Parse.digest(reference, what: "block reference (a height or a 64-hex hash)")
            guard let found = try await storeCall({ try node.store.height(ofBlock: hash) }) else { throw APIError.notFound("block \(reference)") }
            height = found
        }
        guard let block = try await storeCall({ try node.store.block(at: height) }) else { throw APIError.notFound("block \(reference)") }
        return JSONView.block(block)
    }

    func transaction(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.digest(text, what: "transaction ID")
        guard let location = try await storeCall({ try node.store.locate(transaction: id) }),
            let block = try await storeCall({ try node.store.block(at: location.height) })
        else { throw APIError.notFound("transaction \(text)") }
        return JSONView.transaction(block.transactions[location.position], height: location.height, position: location.position)
    }

    func account(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "account")
        let state = await node.state
        let pulse = await node.currentPulse
        var view = JSONView.account(id, state.record(Account.self, at: id) ?? Account())
        view["next_nonce"] = await node.nextNonce(for: id)
        let memberships = try await storeCall { try node.store.keys(kind: Membership.kind, second: id) }
            .compactMap { state.record(Membership.self, at: $0) }
        view["organizations"] = memberships.map(JSONView.membership)
        let given = try await storeCall { try node.store.keys(kind: CreditLine.kind, first: id) }
        let received = try await storeCall { try node.store.keys(kind: CreditLine.kind, second: id) }
        view["credit_given"] = given.compactMap { state.record(CreditLine.self, at: $0) }.map { JSONView.creditLine($0, pulse: pulse) }
        view["credit_received"] = received.compactMap { state.record(CreditLine.self, at: $0) }.map { JSONView.creditLine($0, pulse: pulse) }
        let history = try await storeCall { try node.store.transactions(involving: id, limit: 50) }
        view["transactions"] = history.map { ["id": $0.id.hex, "height": $0.height, "type": $0.type] }
        if let org = state.record(Organization.self, at: Organization.stateKey(id)) { view["organization"] = JSONView.organization(org) }
        return view
    }

    func organizations(limit: Substring?) async throws -> [String: Any] {
        let count = try Parse.limit(limit, default: 100, max: 1000)
        let state = await node.state
        let keys = try await storeCall { try node.store.keys(kind: Organization.kind, limit: count) }
        let orgs = keys.compactMap { state.record(Organization.self, at: $0) }.sorted { $0.createdHeight > $1.createdHeight }
        return ["organizations": orgs.map(JSONView.organization)]
    }

    func organization(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "organization")
        let state = await node.state
        guard let org = state.record(Organization.self, at: Organization.stateKey(id)) else { throw APIError.notFound("organization \(text)") }
        var view = JSONView.organization(org)
        let members = try await storeCall { try node.store.keys(kind: Membership.kind, first: id) }
            .compactMap { state.record(Membership.self, at: $0) }
            .sorted { $0.role != $1.role ? $0.role > $1.role : $0.sinceHeight < $1.sinceHeight }
        view["members"] = members.map(JSONView.membership)
        return view
    }

    func creditLines(from: Substring?, to: Substring?) async throws -> [String: Any] {
        let fromID = try from.map { try Parse.id($0, what: "from") }
        let toID = try to.map { try Parse.id($0, what: "to") }
        let state = await node.state
        let pulse = await node.currentPulse
        let keys = try await storeCall { try node.store.keys(kind: CreditLine.kind, first: fromID, second: toID) }
        let lines = keys.compactMap { state.record(CreditLine.self, at: $0) }
        return ["credit_lines": lines.map { JSONView.creditLine($0, pulse: pulse) }]
    }

    func creditLine(from fromText: Substring, to toText: Substring) async throws -> [String: Any] {
        let from = try Parse.id(fromText, what: "from"), to = try Parse.id(toText, what: "to")
        let state = await node.state
        guard let line = state.record(CreditLine.self, at: CreditLine.stateKey(authorizer: from, authorized: to)) else {
            throw APIError.notFound("credit line from \(fromText) to \(toText)")
        }
        return JSONView.creditLine(line, pulse: await node.currentPulse)
    }

    /// A state proof for a key at a height (default: latest), with the value it proves.
    func proof(_ text: Substring, height heightText: Substring?) async throws -> [String: Any] {
        let key = try Parse.id(text, what: "key")
        let latest = await node.latest.height
        let height = try heightText.map(Parse.height) ?? latest
        guard height <= latest, let header = try await storeCall({ try node.store.header(at: height) }),
            let proof = try await storeCall({ try node.store.proof(key, atHeight: height) })
        else { throw APIError.notFound("block \(height)") }
        let value = try await storeCall { try node.store.value(key, atHeight: height) }
        var view: [String: Any] = [
            "id": key.text, "key": key.text, "height": height, "block_hash": header.hash.hex, "state_root": header.stateRoot.hex,
            "proof": Hex.encode(proof.encoded), "proof_bytes": proof.encodedBytes, "depth": proof.depth,
        ]
        if let value {
            view["value"] = Hex.encode(CBOREncoder.encode(value))
            view["value_json"] = JSONView.cbor(value)
        } else {
            view["value"] = NSNull()
        }
        return view
    }

    private func storeCall<T>(_ body: () throws -> T) async throws -> T {
        do { return try body() } catch let error as StoreError { throw APIError.store(error) }
    }
}
