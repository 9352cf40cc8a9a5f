import Foundation
import Hummingbird
import Ledger
import Storage
import Mustache

/// The block explorer: server-rendered HTML pages over the same queries the API serves.
public struct ExplorerRoutes: Sendable {
    let queries: LedgerQueries
    let library: MustacheLibrary

    public init(queries: LedgerQueries) throws {
        self.queries = queries
        var library = MustacheLibrary()
        try library.register(Templates.layoutHead, named: "head")
        try library.register(Templates.layoutFoot, named: "foot")
        try library.register(Templates.home, named: "home")
        try library.register(Templates.block, named: "block")
        try library.register(Templates.transaction, named: "transaction")
        try library.register(Templates.account, named: "account")
        try library.register(Templates.organization, named: "organization")
        try library.register(Templates.message, named: "message")
        try library.register(Templates.graph, named: "graph")
        try library.register(Templates.incomeEvent, named: "income")
        try library.register(Templates.network, named: "network")
        try library.register(Templates.peer, named: "peer")
        try library.register(Templates.bookkeepers, named: "bookkeepers")
        self.library = library
    }

    public func register(on router: Router<NodeRequestContext>) {
        router.get("/") { _, _ in try await page { try await home() } }
        router.get("block/:ref") { _, context in
            let reference = try context.parameters.require("ref")
            return try await page {
                let block = try await queries.block(reference[...])
                let height = block["height"] as? UInt64 ?? 0
                return ("block", "Block \(height)", [
                    "block": block, "time": Self.time(block["time_ms"]),
                    "previous_height": height > 0 ? String(height - 1) : false,
                    "precommit_count": ((block["commit"] as? [String: Any])?["votes"] as? [Any])?.count ?? 0,
                ])
            }
        }
        router.get("tx/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await page {
                let tx = try await queries.transaction(id[...])
                let body = tx["body"] as? [String: Any] ?? [:]
                let fields: [[String: Any]] = body.sorted { $0.key < $1.key }.map { name, field in
                    let value = "\(field)"
                    return ["name": name, "value": value, "link": value.hasPrefix("ld1") ? "/account/\(value)" : false]
                }
                return ("transaction", "Transaction", ["tx": tx, "fields": fields])
            }
        }
        router.get("account/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await page { ("account", "Account", ["account": try await queries.account(id[...])]) }
        }
        router.get("org/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await page { try await organizationPage(id[...]) }
        }
        router.get("org/:id/income/:sequence") { _, context in
            let id = try context.parameters.require("id"), sequence = try context.parameters.require("sequence")
            return try await page {
                let event = try await queries.incomeEvent(id[...], sequence: sequence[...])
                var name: String?
                if let orgID = try? ID(text: id) { name = await queries.organizationName(orgID) }
                let verified = (event["audit"] as? [String: Any])?["verified"] as? Bool == true
                return ("income", "Income event", [
                    "event": event, "org_name": name ?? "", "audit_class": verified ? "verified" : "mismatch",
                    "audit_text": verified
                        ? "Verified: the split recomputed from the state before block \(event["height"] ?? "") hashes to the recorded root, adds up to the income, and the event is proven in that block's state."
                        : "NOT verified: the recomputed split and the recorded event disagree.",
                ])
            }
        }
        router.get("bookkeepers") { _, _ in
            try await page {
                var set = try await queries.bookkeepers(height: nil)
                set["bookkeepers"] = (set["bookkeepers"] as? [[String: Any]] ?? []).map { member in
                    var row = member
                    row["performance"] = String(format: "%.1f %%", Double(member["performance_ppm"] as? Int ?? 0) / 10_000)
                    return row
                }
                if var election = set["election"] as? [String: Any] {
                    election["candidates"] = (election["candidates"] as? [[String: Any]] ?? []).map { candidate in
                        var row = candidate
                        row["performance"] = String(format: "%.1f %%", Double(candidate["performance_permille"] as? UInt64 ?? 0) / 10)
                        row["seats"] = election["seats"]
                        row["bond_minimum"] = election["bond_minimum"]
                        return row
                    }
                    set["election"] = election
                }
                return ("bookkeepers", "Bookkeepers", ["set": set])
            }
        }
        router.get("network") { _, _ in
            try await page {
                var swarm = try await queries.swarmPeers()
                swarm["peers"] = (swarm["peers"] as? [[String: Any]] ?? []).map { peer in
                    var row = peer
                    row["in"] = Units.display((peer["bytes_in"] as? UInt64) ?? 0)
                    row["out"] = Units.display((peer["bytes_out"] as? UInt64) ?? 0)
                    return row
                }
                let banned = swarm["banned"] as? [[String: Any]] ?? []
                return ("network", "Network", ["local": try await queries.swarmLocal(), "peers": swarm["peers"] ?? [], "banned": banned,
                                               "has_banned": !banned.isEmpty])
            }
        }
        router.get("peer/:peer") { _, context in
            let peer = try context.parameters.require("peer")
            return try await page { try await peerPage(peer[...]) }
        }
        router.get("graph/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await page {
                let graph = try await queries.creditGraph(id[...], depth: "2")
                let center = graph["id"] as? String ?? id
                let edges = graph["edges"] as? [[String: Any]] ?? []
                let svg = CreditGraphSVG.draw(center: center, nodes: graph["nodes"] as? [String] ?? [], edges: edges)
                return ("graph", "Credit graph", ["center": center, "center_short": String(center.prefix(16)) + "…", "svg": svg, "edges": edges])
            }
        }
        router.get("search") { request, _ in try await search(request.uri.queryParameters["q"].map(String.init) ?? "") }
    }

    /// A peer's usage (specs/usage.md): bytes served and received per window as SVG bars, totals per
    /// service, and — when its peer ID carries its key — its ledger account, the credit line this node
    /// granted it (used against its limit) and the settlements between the two.
    func peerPage(_ peer: Substring) async throws -> (String, String, [String: Any]) {
        guard peer == Substring(UsageLedger.others) || PeerID(String(peer)) != nil else { throw APIError.badRequest("\(Parse.quote(peer)) is not a peer ID") }
        // A peer met but not yet billed has an empty page, not a missing one.
        let windows: [[String: Any]]
        do { windows = try queries.usage(of: peer)["windows"] as? [[String: Any]] ?? [] } catch let error as APIError where error.status == .notFound { windows = [] }
        var byWindow: [Int64: (served: UInt64, received: UInt64)] = [:]
        var byService: [String: (served: UInt64, received: UInt64)] = [:]
        for window in windows {
            let start = window["start"] as? Int64 ?? 0, served = window["served"] as? UInt64 ?? 0, received = window["received"] as? UInt64 ?? 0
            byWindow[start, default: (0, 0)].served &+= served
            byWindow[start, default: (0, 0)].received &+= received
            byService[window["service"] as? String ?? "", default: (0, 0)].served &+= served
            byService[window["service"] as? String ?? "", default: (0, 0)].received &+= received
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "MM-dd HH:mm"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let recent = byWindow.keys.sorted().suffix(48)
        let label = { (start: Int64) in formatter.string(from: Date(timeIntervalSince1970: Double(start))) }
        var view: [String: Any] = [
            "peer": String(peer),
            "served_svg": SVGCharts.bars(id: "served-chart", values: recent.map { (label($0), byWindow[$0]?.served ?? 0) }, empty: "nothing served"),
            "received_svg": SVGCharts.bars(id: "received-chart", values: recent.map { (label($0), byWindow[$0]?.received ?? 0) }, empty: "nothing received"),
            "services": byService.keys.sorted().map { ["service": $0, "served": Units.display(byService[$0]?.served ?? 0), "received": Units.display(byService[$0]?.received ?? 0)] },
        ]
        if let id = PeerID(String(peer))?.ledgerID {
            view["ledger_id"] = id.text
            let local = queries.info.nodeKey.id
            view["line"] = try? await queries.creditLine(from: local.text[...], to: id.text[...])
            // The line's use against its limit at each block that changed it (the last 48).
            let history = (try? await queries.creditLineHistory(from: local.text[...], to: id.text[...], limit: "48"))?["history"] as? [[String: Any]] ?? []
            view["credit_svg"] = SVGCharts.usedAgainstLimit(id: "credit-chart", points: history.reversed().map {
                ("#\($0["height"] ?? "")", $0["owed"] as? UInt64 ?? 0, $0["limit"] as? UInt64 ?? 0)
            }, empty: "no credit line to this peer")
            view["settlements"] = (try? await queries.settlements(party: id.text[...]))?["settlements"] ?? []
        }
        return ("peer", "Peer \(peer.prefix(16))…", view)
    }

    /// An organization with its latest 50 income events, each with its audit. The audits are bounded by
    /// the page (a few store reads per event, none per recipient) and cached per height.
    func organizationPage(_ id: Substring) async throws -> (String, String, [String: Any]) {
        let org = try await queries.organization(id)
        var data: [String: Any] = ["org": org]
        if let governance = org["governance"] as? [String: Any], let orgID = try? ID(text: String(id)) {
            let events = Array(((try await queries.incomeEvents(id, from: nil, to: nil))["events"] as? [[String: Any]] ?? []).prefix(50))
            let sequences = events.compactMap { $0["sequence"] as? UInt64 }
            let key = "explorer-audits:\(orgID.text):\(sequences.first ?? 0)-\(sequences.last ?? 0)"
            let audits = try await queries.cached(key) { try await queries.incomeAudits(orgID, sequences: sequences) }
            let rows = events.map { event -> [String: Any] in
                var row = event
                let verified = (event["sequence"] as? UInt64).flatMap { audits[$0] } == true
                row["audit_class"] = verified ? "verified" : "mismatch"
                row["audit_text"] = verified ? "verified" : "NOT verified"
                return row
            }
            data["events"] = rows
            var merged = governance
            merged.merge(org) { first, _ in first }
            data["org"] = merged.merging(["governance": governance]) { first, _ in first }
            data["income_chart"] = SVGCharts.bars(
                id: "income-chart", values: events.reversed().map { ("#\($0["sequence"] ?? "")", ($0["amount"] as? UInt64) ?? 0) }, empty: "no income yet")
            data["dividend_chart"] = SVGCharts.bars(
                id: "dividend-chart", values: (org["dividends"] as? [[String: Any]] ?? []).prefix(20).map { (String(($0["person"] as? String ?? "").prefix(12)) + "…", ($0["total"] as? UInt64) ?? 0) },
                empty: "no dividends yet")
        }
        return ("organization", org["name"] as? String ?? "Organization", data)
    }

    /// Height → block; 64 hex → block or transaction; ld1… → organization or account.
    func search(_ raw: String) async throws -> Response {
        let query = raw.trimmingCharacters(in: .whitespaces)
        if UInt64(query) != nil { return redirect("/block/\(query)") }
        if Digest(hex: query) != nil {
            if (try? await queries.block(query[...])) != nil { return redirect("/block/\(query.lowercased())") }
            if (try? await queries.transaction(query[...])) != nil { return redirect("/tx/\(query.lowercased())") }
        }
        if let id = try? ID(text: query) {
            if await queries.organizationName(id) != nil { return redirect("/org/\(id.text)") }
            return redirect("/account/\(id.text)")
        }
        let message = query.isEmpty ? "Type a block height, an ID (ld1…) or a hash." : "Nothing matches '\(APIError.oneLine(query, max: 64))'. Search takes a block height, an ID (ld1…), or a block or transaction hash (64 hex characters)."
        return try await render("message", title: "Not found", ["heading": "Not found", "message": message], status: .notFound)
    }

    func home() async throws -> (String, String, [String: Any]) {
        let status = try await queries.status()
        let blocks = (try await queries.blocks(before: nil, limit: "20"))["blocks"] as? [[String: Any]] ?? []
        let orgs = (try await queries.organizations(limit: "50"))["organizations"] as? [[String: Any]] ?? []
        let rows = blocks.map { block -> [String: Any] in
            var row = block
            row["short"] = String((block["hash"] as? String ?? "").prefix(16)) + "…"
            row["time"] = Self.time(block["time_ms"])
            return row
        }
        return ("home", "Latest blocks", ["status": status, "blocks": rows, "organizations": orgs])
    }

    // MARK: - Rendering

    private func page(_ build: () async throws -> (String, String, [String: Any])) async throws -> Response {
        do {
            let (template, title, data) = try await build()
            return try await render(template, title: title, data)
        } catch let error as APIError {
            let heading = error.status == .notFound ? "Not found" : "Cannot show this page"
            return try await render("message", title: heading, ["heading": heading, "message": error.message], status: error.status)
        }
    }

    private func render(_ template: String, title: String, _ data: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        var context = data
        context["title"] = title
        context["chain"] = queries.node.chainID
        let html = library.render(context, withTemplate: template) ?? "template \(template) missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func time(_ milliseconds: Any?) -> String {
        guard let value = milliseconds as? UInt64 else { return "" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(value) / 1000))
    }
}
