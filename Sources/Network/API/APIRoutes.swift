import Foundation
import Hummingbird
import Ledger

/// The public read API under /api/v1 and the admin API under /api/v1/admin (specs/openapi.yaml).
public struct APIRoutes: Sendable {
    public static let requestBytesMax = 64 * 1024

    let queries: LedgerQueries
    let adminToken: String

    public init(queries: LedgerQueries, adminToken: String) {
        self.queries = queries
        self.adminToken = adminToken
    }

    public func register(on router: Router<NodeRequestContext>) {
        let api = router.group("api/v1")
        api.get("status") { _, _ in JSONResponse.make(try await queries.status()) }
        api.get("blocks") { request, _ in
            JSONResponse.make(try await queries.blocks(before: request.uri.queryParameters["before"], limit: request.uri.queryParameters["limit"]))
        }
        api.get("blocks/:ref") { _, context in JSONResponse.make(try await queries.block(context.parameters.require("ref")[...])) }
        api.get("transactions/:id") { _, context in JSONResponse.make(try await queries.transaction(context.parameters.require("id")[...])) }
        api.get("accounts/:id") { _, context in JSONResponse.make(try await queries.account(context.parameters.require("id")[...])) }
        api.get("organizations") { request, _ in
            JSONResponse.make(try await queries.organizations(limit: request.uri.queryParameters["limit"]))
        }
        api.get("organizations/:id") { _, context in JSONResponse.make(try await queries.organization(context.parameters.require("id")[...])) }
        api.get("credit-lines") { request, _ in
            JSONResponse.make(try await queries.creditLines(from: request.uri.queryParameters["from"], to: request.uri.queryParameters["to"]))
        }
        api.get("credit-lines/:from/:to") { _, context in
            JSONResponse.make(try await queries.creditLine(from: context.parameters.require("from")[...], to: context.parameters.require("to")[...]))
        }
        api.get("credit-lines/:from/:to/history") { request, context in
            JSONResponse.make(try await queries.creditLineHistory(from: context.parameters.require("from")[...], to: context.parameters.require("to")[...],
                                                                  limit: request.uri.queryParameters["limit"]))
        }
        api.get("organizations/:id/income") { request, context in
            JSONResponse.make(try await queries.incomeEvents(context.parameters.require("id")[...], from: request.uri.queryParameters["from"],
                                                             to: request.uri.queryParameters["to"]))
        }
        api.get("organizations/:id/income/:sequence") { _, context in
            JSONResponse.make(try await queries.incomeEvent(context.parameters.require("id")[...], sequence: context.parameters.require("sequence")[...]))
        }
        api.get("organizations/:id/dividends.csv") { _, context in
            let csv = try await queries.dividendsCSV(context.parameters.require("id")[...])
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"dividends.csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        api.get("genesis") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: queries.info.genesisJSON)))
        }
        api.get("credit-path") { request, _ in
            let query = request.uri.queryParameters
            return JSONResponse.make(try await queries.creditPath(from: query["from"], to: query["to"], amount: query["amount"]))
        }
        api.get("credit-graph/:id") { request, context in
            JSONResponse.make(try await queries.creditGraph(context.parameters.require("id")[...], depth: request.uri.queryParameters["depth"]))
        }
        api.get("bookkeepers") { request, _ in JSONResponse.make(try await queries.bookkeepers(height: request.uri.queryParameters["height"])) }
        api.get("netting") { _, _ in JSONResponse.make(try await queries.netting()) }
        api.get("ious") { request, _ in JSONResponse.make(try await queries.ious(party: request.uri.queryParameters["party"])) }
        api.get("ious/:id") { _, context in JSONResponse.make(try await queries.iou(context.parameters.require("id")[...])) }
        api.get("settlements") { request, _ in JSONResponse.make(try await queries.settlements(party: request.uri.queryParameters["party"])) }
        api.get("contracts") { request, _ in JSONResponse.make(try await queries.contracts(party: request.uri.queryParameters["party"])) }
        api.get("contracts/:id") { _, context in JSONResponse.make(try await queries.contract(context.parameters.require("id")[...])) }
        api.get("proofs/:key") { request, context in
            JSONResponse.make(try await queries.proof(context.parameters.require("key")[...], height: request.uri.queryParameters["height"]))
        }

        api.get("swarm/local") { _, _ in JSONResponse.make(try await queries.swarmLocal()) }
        api.get("swarm/addrs") { _, _ in JSONResponse.make(try queries.swarmAddresses()) }
        api.get("swarm/peers") { _, _ in JSONResponse.make(try await queries.swarmPeers()) }
        api.get("usage") { _, _ in JSONResponse.make(try queries.usage()) }
        api.get("metering") { _, _ in JSONResponse.make(try await queries.metering()) }
        api.get("usage/:peer") { request, context in
            JSONResponse.make(try queries.usage(of: context.parameters.require("peer")[...], limit: request.uri.queryParameters["limit"]))
        }
        // Lookups need the admin cookie: each answer a lookup gets is billed to this node by the peers that
        // grant it a line (specs/credit.md §Metering in practice), so a stranger must not start them at will.
        let dht = api.group("dht").add(middleware: AdminAuthMiddleware(token: adminToken))
        dht.get("peers/:peer") { _, context in JSONResponse.make(try await queries.dhtFindPeer(context.parameters.require("peer")[...])) }
        dht.get("providers/:key") { _, context in JSONResponse.make(try await queries.dhtFindProviders(context.parameters.require("key")[...])) }
        dht.get("value") { request, _ in JSONResponse.make(try await queries.dhtGet(request.uri.queryParameters["key"].map(String.init))) }

        let admin = api.group("admin").add(middleware: AdminAuthMiddleware(token: adminToken))
        admin.post("swarm/connect") { request, _ in
            JSONResponse.make(try await queries.swarmConnect(try await jsonField(request, "address")))
        }
        admin.post("swarm/disconnect") { request, _ in
            JSONResponse.make(try await queries.swarmDisconnect(try await jsonField(request, "peer")))
        }
        admin.post("dht/provide") { request, _ in JSONResponse.make(try await queries.dhtProvide(try await jsonField(request, "key"))) }
        admin.post("dht/value") { request, _ in JSONResponse.make(try await queries.dhtPut(try await jsonField(request, "record"))) }
        admin.post("mimei/head") { request, _ in
            let body = try await jsonObject(request)
            guard let mid = body["mid"] as? String else { throw APIError.badRequest("body must be JSON {\"mid\": \"ld1…\", \"capability\": \"hex\"}") }
            return JSONResponse.make(try await queries.mimeiHead(mid, capability: body["capability"] as? String))
        }
        admin.post("transactions") { request, _ in try await submit(request) }
        admin.get("node-key") { _, _ in
            JSONResponse.make(["id": queries.info.nodeKey.id.text, "public_key": queries.info.nodeKey.hex])
        }
    }

    /// One string field of a small JSON body.
    func jsonField(_ request: Request, _ name: String) async throws -> String {
        guard let value = try await jsonObject(request)[name] as? String else { throw APIError.badRequest("body must be JSON {\"\(name)\": \"...\"}") }
        return value
    }

    /// A small JSON object body.
    func jsonObject(_ request: Request) async throws -> [String: Any] {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: APIRoutes.requestBytesMax) } catch {
            throw APIError(.contentTooLarge, "too_large", "request body is larger than \(APIRoutes.requestBytesMax) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { throw APIError.badRequest("body must be a JSON object") }
        return object
    }

    /// Accepts `{"tx": "<hex of the signed transaction's DAG-CBOR>"}`.
    func submit(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: APIRoutes.requestBytesMax) } catch {
            throw APIError(.contentTooLarge, "too_large", "request body is larger than \(APIRoutes.requestBytesMax) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let hex = object["tx"] as? String
        else { throw APIError.badRequest("body must be JSON {\"tx\": \"<hex>\"}") }
        guard let bytes = Hex.decode(hex) else { throw APIError.badRequest("tx is not hex") }
        let signed: SignedTransaction
        do { signed = try SignedTransaction.decodeUntrusted(bytes) } catch {
            let code = error == .tooLarge ? Rejection.Code.tooLarge : Rejection.Code.malformed
            throw APIError(.badRequest, code.rawValue, "transaction does not decode: \(error)")
        }
        do {
            let id = try await queries.node.admit(signed)
            return JSONResponse.make(["id": id.hex, "status": "pending"], status: .accepted)
        } catch {
            throw APIError.rejected(error)
        }
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = Data(buffer.readableBytesView)
    }
}
