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
    let network: P2PNetwork?
    /// Expensive answers, per chain height (netting, an organization's dividends and audits).
    public let cache: QueryCache
    /// Every store read these queries make (tests hold pages to a bound with it).
    public let reads = StoreReadCounter()

    /// Whole exports (an organization's dividends CSV), per income event rather than per height, and
    /// few: each can be large.
    public let exports: QueryCache

    public init(node: LedgerNode, info: NodeInfo, network: P2PNetwork? = nil, cache: QueryCache = QueryCache(), exports: QueryCache = QueryCache(capacity: 8)) {
        self.node = node
        self.info = info
        self.network = network
        self.cache = cache
        self.exports = exports
    }

    /// `compute`'s answer, cached for the current chain height under `key`.
    func cached<T: Sendable>(_ key: String, _ compute: () async throws -> T) async throws -> T {
        let height = await node.latest.height
        return try await cache.value(key, height: height, compute: compute)
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
            "version": info.version, "p2p_listen": info.p2pAddress, "p2p_enabled": network != nil,
            "peer_id": network?.swarm.peerID.description ?? "", "peers": await network?.swarm.connectedPeers.count ?? 0,
            "bookkeeper": await node.isBookkeeper, "sync": await syncStatus(latest: latest.height),
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
        // The payout is recomputed with the sets of its own time (elections and evidence change them).
        var sets = PayoutSets(store: node.store)
        let paidBy = try await storeCall { try sets.forBlock(height) }
        return JSONView.block(block, parameters: await node.state.parameters, paidBy: paidBy)
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
        let lines = try await storeCall { try node.store.keys(kind: CreditLine.kind, involving: id) }.compactMap { state.record(CreditLine.self, at: $0) }
        let views = lines.map { JSONView.creditViews($0, for: id, pulse: pulse) }
        view["credit_given"] = views.compactMap(\.given)
        view["credit_received"] = views.compactMap(\.received)
        view["ious"] = try await storeCall { try node.store.keys(kind: IOU.kind, involving: id) }
            .compactMap { state.record(IOU.self, at: $0) }.map(JSONView.iou)
        view["settlements"] = try await storeCall { try node.store.keys(kind: Settlement.kind, involving: id) }
            .compactMap { state.record(Settlement.self, at: $0) }.map { JSONView.settlement($0, pulse: pulse) }
        view["contracts"] = try await contracts(of: id, state: state, pulse: pulse)
        let history = try await storeCall { try node.store.transactions(involving: id, limit: 50) }
        view["transactions"] = history.map { ["id": $0.id.hex, "height": $0.height, "type": $0.type] }
        if let org = state.record(Organization.self, at: Organization.stateKey(id)) { view["organization"] = JSONView.organization(org) }
        return view
    }

    private func contracts(of id: ID, state: LedgerState, pulse: UInt64) async throws -> [[String: Any]] {
        let storage = try await storeCall { try node.store.keys(kind: StorageContract.kind, involving: id) }
            .compactMap { state.record(StorageContract.self, at: $0) }.map { JSONView.storageContract($0, pulse: pulse) }
        let forward = try await storeCall { try node.store.keys(kind: ForwardContract.kind, involving: id) }
            .compactMap { state.record(ForwardContract.self, at: $0) }.map(JSONView.forwardContract)
        return storage + forward
    }

    func organizations(limit: Substring?) async throws -> [String: Any] {
        let count = try Parse.limit(limit, default: 100, max: 1000)
        let state = await node.state
        let keys = try await storeCall { try node.store.keys(kind: Organization.kind, limit: count) }
        let orgs = keys.compactMap { state.record(Organization.self, at: $0) }.sorted { $0.createdHeight > $1.createdHeight }
        return ["organizations": orgs.map(JSONView.organization)]
    }

    static let applicantsShown = 200

    /// An organization's name, or nil when there is none with that ID: one record read.
    func organizationName(_ id: ID) async -> String? {
        await node.state.record(Organization.self, at: Organization.stateKey(id))?.name
    }

    func organization(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "organization")
        let state = await node.state
        let pulse = await node.currentPulse
        guard let org = state.record(Organization.self, at: Organization.stateKey(id)) else { throw APIError.notFound("organization \(text)") }
        var view = JSONView.organization(org)
        // Members are at most `membersMax`; applicants are not bounded by the rules (anyone may apply), so
        // only the first `applicantsShown` of them (in key order) are read and listed, with their count.
        let applicants = state.members(ofGroup: Membership.applicantsGroup(id))
        let members = (state.members(ofGroup: Membership.group(id)) + applicants.prefix(Self.applicantsShown))
            .compactMap { state.record(Membership.self, at: $0) }
            .sorted { $0.role != $1.role ? $0.role > $1.role : $0.sinceHeight < $1.sinceHeight }
        view["members"] = members.map(JSONView.membership)
        view["applicant_count"] = applicants.count
        guard let governance = state.record(Governance.self, at: Governance.stateKey(id)) else { return view }
        view["governance"] = JSONView.governance(governance)
        let contracts = (1...max(governance.contractVersion, 1)).compactMap { state.record(ConsensusContract.self, at: ConsensusContract.stateKey(id, version: $0)) }
        view["contract"] = contracts.last.map(JSONView.contract) ?? [:]
        view["contract_history"] = contracts.map(JSONView.contract)
        // The largest holders and dividends need every record of the organization: computed once per height.
        // (The state is read again inside, after the height: an answer is never filed under a newer height than its data.)
        let ranked = try await cached("organization-ranks:\(id.text)") { try await organizationRanks(id, state: await node.state) }
        view["token_holders"] = ranked.holders.map { ["id": $0.holder.text, "holder": $0.holder.text, "balance": $0.balance] }
        view["token_holder_count"] = ranked.holderCount
        view["dividends"] = ranked.dividends.map { ["id": $0.person.text, "person": $0.person.text, "total": $0.total, "total_display": Units.display($0.total), "events": $0.events] }
        // The newest 50 proposals by sequence number, read directly (their status depends on the pulse, so not cached).
        let newest = governance.proposalCount
        let proposals = stride(from: newest, to: newest > 50 ? newest - 50 : 0, by: -1).compactMap {
            state.record(Proposal.self, at: Proposal.stateKey(id, sequence: $0))
        }
        view["proposals"] = proposals.map { JSONView.proposal($0, pulse: pulse) }
        return view
    }

    /// An organization's 100 largest token holders and dividend recipients, and how many hold tokens.
    struct OrganizationRanks: Sendable {
        let holders: [TokenBalance]
        let holderCount: Int
        let dividends: [DividendTotal]
    }

    private func organizationRanks(_ id: ID, state: LedgerState) async throws -> OrganizationRanks {
        let holders = state.members(ofGroup: TokenBalance.group(id)).compactMap { state.record(TokenBalance.self, at: $0) }
            .sorted { $0.balance != $1.balance ? $0.balance > $1.balance : $0.holder < $1.holder }
        let dividends = try await storeCall { try node.store.keys(kind: DividendTotal.kind, first: id, limit: 10_000) }
            .compactMap { state.record(DividendTotal.self, at: $0) }.sorted { $0.total != $1.total ? $0.total > $1.total : $0.person < $1.person }
        return OrganizationRanks(holders: Array(holders.prefix(100)), holderCount: holders.count, dividends: Array(dividends.prefix(100)))
    }

    /// Whether each of an organization's income events `sequences` is verified: its recorded split
    /// recomputes to the recorded root and adds up to the income, and the event is proven in its block's
    /// state. The work is bounded by the number of events (one payouts read for all, a header and a proof
    /// each); the recipients' balance proofs are on each event's own page (`incomeEvent`).
    func incomeAudits(_ id: ID, sequences: [UInt64]) async throws -> [UInt64: Bool] {
        guard let low = sequences.min(), let high = sequences.max() else { return [:] }
        let state = await node.state
        let payouts = Dictionary(grouping: try await storeCall { try node.store.payouts(organization: id, from: low, to: high) }, by: \.sequence)
        var verified: [UInt64: Bool] = [:]
        for sequence in sequences {
            let key = IncomeEvent.stateKey(id, sequence: sequence)
            guard let event = state.record(IncomeEvent.self, at: key) else { continue }
            let paid = payouts[sequence] ?? []
            let result = Distribution.Result(payouts: paid.map { (recipient: $0.recipient, amount: $0.amount) }, remainder: event.remainder)
            guard let header = try await storeCall({ try node.store.header(at: event.height) }),
                let proof = try await storeCall({ try node.store.proof(key, atHeight: event.height) })
            else { verified[sequence] = false; continue }
            let proven = (try? proof.verify(root: header.stateRoot)) == .present(valueHash: SHA256.hash(CBOREncoder.encode(event.cbor)))
            verified[sequence] = result.root == event.payoutRoot && result.paidOut &+ result.remainder == event.amount && proven
        }
        return verified
    }

    /// Income events `from`…`to` (sequence numbers; default the latest 50), newest first.
    func incomeEvents(_ text: Substring, from fromText: Substring?, to toText: Substring?) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "organization")
        let state = await node.state
        guard let governance = state.record(Governance.self, at: Governance.stateKey(id)) else { throw APIError.notFound("organization \(text)") }
        let to = try toText.map(Parse.height) ?? governance.incomeCount
        let from = try fromText.map(Parse.height) ?? (to > 50 ? to - 49 : 1)
        if fromText == nil && toText == nil && governance.incomeCount == 0 {
            return ["id": id.text, "income_count": 0, "events": [Any]()]
        }
        guard from >= 1, from <= to, to - from < 10_000 else { throw APIError.badRequest("give 1 ≤ from ≤ to, at most 10,000 events apart") }
        let events = stride(from: min(to, governance.incomeCount), through: max(from, 1), by: -1).compactMap {
            state.record(IncomeEvent.self, at: IncomeEvent.stateKey(id, sequence: $0))
        }
        return ["id": id.text, "income_count": governance.incomeCount, "events": events.map(JSONView.incomeEvent)]
    }

    /// One income event with its split table and an audit: the split the node recomputed from the state
    /// before the event's block must hash to the root recorded on the ledger, and the recorded event is
    /// proven against that block's state root.
    func incomeEvent(_ text: Substring, sequence sequenceText: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "organization")
        let sequence = try Parse.height(sequenceText)
        let state = await node.state
        guard let event = state.record(IncomeEvent.self, at: IncomeEvent.stateKey(id, sequence: sequence)) else {
            throw APIError.notFound("income event \(sequence) of \(text)")
        }
        let payouts = try await storeCall { try node.store.payouts(organization: id, from: sequence, to: sequence) }
        let result = Distribution.Result(payouts: payouts.map { (recipient: $0.recipient, amount: $0.amount) }, remainder: event.remainder)
        let key = IncomeEvent.stateKey(id, sequence: sequence)
        guard let header = try await storeCall({ try node.store.header(at: event.height) }),
            let proof = try await storeCall({ try node.store.proof(key, atHeight: event.height) })
        else { throw APIError.notFound("block \(event.height)") }
        let proven = (try? proof.verify(root: header.stateRoot)) == .present(valueHash: SHA256.hash(CBOREncoder.encode(event.cbor)))
        var view = JSONView.incomeEvent(event)
        // State proofs of the recipients' balances after the event's block (the first 20), checked here
        // against that block's state root; the page shows them, a client can check them again.
        var balanceProofs: [[String: Any]] = []
        for payout in payouts.prefix(20) {
            guard let proof = try await storeCall({ try node.store.proof(payout.recipient, atHeight: event.height) }),
                let value = try await storeCall({ try node.store.value(payout.recipient, atHeight: event.height) })
            else { continue }
            let proven = (try? proof.verify(root: header.stateRoot)) == .present(valueHash: SHA256.hash(CBOREncoder.encode(value)))
            let balance = (try? Account(cbor: value))?.balance ?? 0
            balanceProofs.append(["recipient": payout.recipient.text, "balance": balance, "balance_display": Units.display(balance), "proven": proven,
                                  "proof": Hex.encode(proof.encoded)])
        }
        view["balance_proofs"] = balanceProofs
        let total = result.paidOut &+ result.remainder
        view["payouts"] = payouts.map { ["recipient": $0.recipient.text, "amount": $0.amount, "amount_display": Units.display($0.amount),
                                         "share_ppm": event.amount == 0 ? 0 : UInt64(clamping: UInt128($0.amount) * 1_000_000 / UInt128(event.amount))] }
        view["audit"] = [
            "recomputed_root": result.root.hex, "root_matches": result.root == event.payoutRoot, "adds_up": total == event.amount,
            "event_proven": proven, "balances_proven": balanceProofs.allSatisfy { $0["proven"] as? Bool == true },
            "verified": result.root == event.payoutRoot && total == event.amount && proven && balanceProofs.allSatisfy { $0["proven"] as? Bool == true },
            "proof": Hex.encode(proof.encoded), "state_root": header.stateRoot.hex,
        ]
        return view
    }

    /// Every payout of an organization, as CSV: the export Blockscout users asked for most. It reads
    /// every payout, so it is made once per income event (in the small `exports` cache): payouts change
    /// only when an event is added, not with every block.
    func dividendsCSV(_ text: Substring) async throws -> String {
        let id = try Parse.id(text, what: "organization")
        guard let governance = await node.state.record(Governance.self, at: Governance.stateKey(id)) else { throw APIError.notFound("organization \(text)") }
        let count = governance.incomeCount
        // Keyed by the event count, under one fixed "height": a new block keeps it, a new event replaces it.
        return try await exports.value("dividends-csv:\(id.text):\(count)", height: 0) {
            let payouts = try await storeCall { try node.store.payouts(organization: id, from: 1, to: count) }
            var csv = "event,height,recipient,amount_bytes\n"
            for payout in payouts { csv += "\(payout.sequence),\(payout.height),\(payout.recipient.text),\(payout.amount)\n" }
            return csv
        }
    }

    /// Letters of credit, one direction each: granted by `from`, to `to`, or both.
    func creditLines(from: Substring?, to: Substring?) async throws -> [String: Any] {
        let fromID = try from.map { try Parse.id($0, what: "from") }
        let toID = try to.map { try Parse.id($0, what: "to") }
        let state = await node.state
        let pulse = await node.currentPulse
        let lines: [CreditLine]
        if let fromID, let toID {
            lines = state.record(CreditLine.self, at: CreditLine.stateKey(fromID, toID)).map { [$0] } ?? []
        } else if let party = fromID ?? toID {
            lines = try await storeCall { try node.store.keys(kind: CreditLine.kind, involving: party) }.compactMap { state.record(CreditLine.self, at: $0) }
        } else {
            lines = try await storeCall { try node.store.keys(kind: CreditLine.kind) }.compactMap { state.record(CreditLine.self, at: $0) }
        }
        var views: [[String: Any]] = []
        for line in lines {
            for grantor in [line.low, line.high] {
                let grantee = line.other(grantor)
                if let fromID, fromID != grantor { continue }
                if let toID, toID != grantee { continue }
                if line.terms(grantedBy: grantor).base > 0 || line.debt(of: grantee) > 0 {
                    views.append(JSONView.creditLine(line, grantor: grantor, pulse: pulse))
                }
            }
        }
        return ["credit_lines": views]
    }

    func creditLine(from fromText: Substring, to toText: Substring) async throws -> [String: Any] {
        let from = try Parse.id(fromText, what: "from"), to = try Parse.id(toText, what: "to")
        let state = await node.state
        guard let line = state.record(CreditLine.self, at: CreditLine.stateKey(from, to)),
            line.terms(grantedBy: from).base > 0 || line.debt(of: to) > 0
        else { throw APIError.notFound("credit line from \(fromText) to \(toText)") }
        return JSONView.creditLine(line, grantor: from, pulse: await node.currentPulse)
    }

    /// How a line's use and limit moved: one point per block that changed the line, newest first, at
    /// most `limit` (100 by default, 1,000 at most). `owed` is the grantee's debt after that block and
    /// `limit` the grantor's base limit; `time` is the block's.
    func creditLineHistory(from fromText: Substring, to toText: Substring, limit limitText: Substring?) async throws -> [String: Any] {
        let from = try Parse.id(fromText, what: "from"), to = try Parse.id(toText, what: "to")
        let count = try Parse.limit(limitText, default: 100, max: 1_000)
        let key = CreditLine.stateKey(from, to)
        let versions = try await storeCall { try node.store.history(key, limit: count) }
        guard !versions.isEmpty else { throw APIError.notFound("credit line from \(fromText) to \(toText)") }
        var points: [[String: Any]] = []
        for version in versions {
            var point: [String: Any] = ["height": version.height, "time": version.timeMillis]
            if let value = version.value, let line = try? CreditLine(cbor: value) {
                point["limit"] = line.terms(grantedBy: from).base
                point["owed"] = line.debt(of: to)
            } else {
                point["limit"] = 0
                point["owed"] = 0
            }
            points.append(point)
        }
        return ["from": from.text, "to": to.text, "history": points]
    }

    /// The shortest path along which `amount` can move from one node to another now.
    func creditPath(from fromText: Substring?, to toText: Substring?, amount amountText: Substring?) async throws -> [String: Any] {
        guard let fromText, let toText, let amountText else { throw APIError.badRequest("from, to and amount are required") }
        let from = try Parse.id(fromText, what: "from"), to = try Parse.id(toText, what: "to")
        guard let amount = Units.parse(String(amountText)), amount > 0 else { throw APIError.badRequest("amount must be a positive number of bytes") }
        // The graph of every line, built once per height and pulse (capacities depend on both).
        let pulse = await node.currentPulse
        let graph = try await cached("credit-graph:\(pulse)") { CreditGraph(lines: await node.creditLines(), pulse: pulse) }
        guard let path = graph.path(from: from, to: to, amount: amount) else {
            throw APIError(.notFound, PaymentRule.noPath.rawValue, "no path from \(from) to \(to) can carry \(amount) (lines need room and intermediaries must allow rippling)")
        }
        return ["id": to.text, "from": from.text, "to": to.text, "amount": amount, "path": path.map(\.text), "via": path.dropFirst().dropLast().map(\.text)]
    }

    /// An account's neighbourhood in the credit graph, up to `depth` lines away and at most
    /// `graphNodesMax` accounts: each account's lines are read through the state index (at most
    /// `graphLinesPerAccount` of them), so the cost is the neighbourhood's, not the whole graph's.
    func creditGraph(_ text: Substring, depth depthText: Substring?) async throws -> [String: Any] {
        let center = try Parse.id(text, what: "account")
        let depth = try Parse.limit(depthText, default: 2, max: 4)
        let pulse = await node.currentPulse
        let state = await node.state
        var seen: Set<ID> = [center], frontier: [ID] = [center], edges: [[String: Any]] = [], kept = Set<ID>()
        search: for _ in 0..<depth {
            var next: [ID] = []
            for account in frontier {
                let keys = try await storeCall { try node.store.keys(kind: CreditLine.kind, involving: account, limit: Self.graphLinesPerAccount) }
                for key in keys where kept.insert(key).inserted {
                    guard let line = state.record(CreditLine.self, at: key) else { continue }
                    let other = line.other(account)
                    if !seen.contains(other) {
                        guard seen.count < Self.graphNodesMax else { break search }
                        seen.insert(other)
                        next.append(other)
                    }
                    for grantor in [line.low, line.high] where line.terms(grantedBy: grantor).base > 0 || line.debt(of: line.other(grantor)) > 0 {
                        edges.append(JSONView.creditLine(line, grantor: grantor, pulse: pulse))
                    }
                }
            }
            frontier = next
        }
        return ["id": center.text, "nodes": seen.map(\.text).sorted(), "edges": edges]
    }

    static let graphNodesMax = 60
    static let graphLinesPerAccount = 100

    /// The debt cycles that netting would clear now, and the debt they relieve. The cycle search reads
    /// every credit line, so it runs once per chain height (its input changes only with a block).
    func netting() async throws -> [String: Any] {
        let answer = try await cached("netting") { await nettingAnswer() }
        return ["cycles": answer.cycles.map { ["nodes": $0.nodes.map(\.text), "amount": $0.amount] }, "relieved": answer.relieved, "total_debt": answer.total]
    }

    struct NettingAnswer: Sendable {
        let cycles: [(nodes: [ID], amount: UInt64)]
        let relieved: UInt64
        let total: UInt64
    }

    private func nettingAnswer() async -> NettingAnswer {
        let debts = Netting.debts(of: await node.creditLines())
        let cycles = Netting.findCycles(debts, cyclesMax: Netting.cyclesMax)
        return NettingAnswer(cycles: cycles.map { (nodes: $0.nodes, amount: $0.amount) }, relieved: cycles.reduce(UInt64(0)) { $0 &+ ($1.relieved ?? 0) },
                             total: debts.reduce(UInt64(0)) { $0 &+ $1.amount })
    }

    func ious(party text: Substring?) async throws -> [String: Any] {
        let state = await node.state
        let keys: [ID]
        if let text { keys = try await storeCall { try node.store.keys(kind: IOU.kind, involving: try Parse.id(text, what: "party")) } } else {
            keys = try await storeCall { try node.store.keys(kind: IOU.kind) }
        }
        return ["ious": keys.compactMap { state.record(IOU.self, at: $0) }.map(JSONView.iou)]
    }

    func iou(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "IOU")
        guard let iou = await node.state.record(IOU.self, at: id) else { throw APIError.notFound("IOU \(text) (repaid IOUs are removed)") }
        return JSONView.iou(iou)
    }

    func settlements(party text: Substring?) async throws -> [String: Any] {
        let state = await node.state, pulse = await node.currentPulse
        let keys: [ID]
        if let text { keys = try await storeCall { try node.store.keys(kind: Settlement.kind, involving: try Parse.id(text, what: "party")) } } else {
            keys = try await storeCall { try node.store.keys(kind: Settlement.kind) }
        }
        return ["settlements": keys.compactMap { state.record(Settlement.self, at: $0) }.map { JSONView.settlement($0, pulse: pulse) }]
    }

    func contracts(party text: Substring?) async throws -> [String: Any] {
        let state = await node.state, pulse = await node.currentPulse
        guard let text else { throw APIError.badRequest("party is required") }
        return ["contracts": try await contracts(of: try Parse.id(text, what: "party"), state: state, pulse: pulse)]
    }

    func contract(_ text: Substring) async throws -> [String: Any] {
        let id = try Parse.id(text, what: "contract")
        let state = await node.state, pulse = await node.currentPulse
        if let storage = state.record(StorageContract.self, at: id) { return JSONView.storageContract(storage, pulse: pulse) }
        if let forward = state.record(ForwardContract.self, at: id) { return JSONView.forwardContract(forward) }
        throw APIError.notFound("contract \(text)")
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

    func storeCall<T>(_ body: () throws -> T) async throws -> T {
        reads.add(1)
        do { return try body() } catch let error as StoreError { throw APIError.store(error) }
    }
}
