import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOConcurrencyHelpers
import Storage

/// The path gateway on the HTTP port (specs/content.md §Gateway), after the IPFS HTTP Gateway specs:
/// `GET|HEAD /ipfs/{cid}[/path]` serves a UnixFS file (with `Range`), a directory's `index.html` or its
/// listing, the block itself (`?format=raw`, `Accept: application/vnd.ipld.raw`), or a CARv1 of the
/// DAG (`?format=car`, `Accept: application/vnd.ipld.car`, with `dag-scope=all|entity|block`), from this
/// node's content store, each block checked against its CID. What the store lacks is fetched from peers
/// over Bitswap first (the path's blocks one by one, then the served DAG whole), within `fetchTimeout`:
/// past it the answer is 504. Content under /ipfs/ never changes: it is cached for a year and
/// revalidated by its Etag.
public struct GatewayRoutes: Sendable {
    let export: ContentExport
    let fetcher: ContentFetcher?
    let fetchTimeout: Duration
    /// DAGs known to be wholly held (fetched or walked whole), with the store's garbage-collection count
    /// then: a collection since (ledgerctl's `repo gc`, in another process) makes the entry stale.
    let complete = NIOLockedValueBox([CID: UInt64]())
    /// DAG walks and fetches running now, at most `fetchesMax` (each holds its set of CIDs seen).
    let fetches = NIOLockedValueBox(0)
    static let fetchesMax = 16
    static let immutable = "public, max-age=29030400, immutable"
    // Valid field names, so the fallbacks are never taken (they keep a trap out of the code).
    static let ipfsPathHeader = HTTPField.Name("X-Ipfs-Path") ?? .server
    static let ipfsRootsHeader = HTTPField.Name("X-Ipfs-Roots") ?? .server
    static let noSniffHeader = HTTPField.Name("X-Content-Type-Options") ?? .server

    let resolver: MiMeiResolver?
    /// Small hot files, whole, as the buffers written.
    let bodies = FileBodies()
    /// Under /mm/ without a version number the content can change: cached for a minute.
    static let mutable = "public, max-age=60"

    /// The admin cookie: a request bearing it is the operator's, who reads everything (ledgerctl's fetches).
    let adminToken: String?

    /// Anonymous clients' bytes, allowances and limit (nil: not counted).
    let traffic: GatewayTraffic?

    public init(store: ContentStore, fetcher: ContentFetcher? = nil, fetchTimeout: Duration = .seconds(60), mimei: MiMeiStore? = nil, dht: DHT? = nil,
                adminToken: String? = nil, traffic: GatewayTraffic? = nil) {
        export = ContentExport(store: store)
        self.fetcher = fetcher
        self.fetchTimeout = fetchTimeout
        self.adminToken = adminToken
        self.traffic = traffic
        resolver = mimei.map { MiMeiResolver(store: $0, dht: dht) }
    }

    public func register(on router: Router<NodeRequestContext>) {
        for path in ["ipfs/:cid", "ipfs/:cid/**"] {
            router.get(RouterPath(path)) { request, context in try await metered(request, context) { try await ipfs(request, context, head: false) } }
            router.head(RouterPath(path)) { request, context in try await metered(request, context) { try await ipfs(request, context, head: true) } }
        }
        guard resolver != nil else { return }
        for path in ["mm/:mid", "mm/:mid/**"] {
            router.get(RouterPath(path)) { request, context in try await metered(request, context) { try await mm(request, context, head: false) } }
            router.head(RouterPath(path)) { request, context in try await metered(request, context) { try await mm(request, context, head: true) } }
        }
    }

    /// Serves an anonymous client within its allowance and the day's limit, counting its body's bytes as
    /// they are written; past either, 429 with the reason and `Retry-After` (specs/usage.md §Gateway).
    /// The operator (the admin cookie) is not counted.
    private func metered(_ request: Request, _ context: NodeRequestContext, _ serve: () async throws -> Response) async throws -> Response {
        guard let traffic, !(adminToken.map { AdminToken.authenticates(request.headers[.authorization], token: $0) } ?? false) else {
            return try await serve()
        }
        let client = GatewayTraffic.client(context.remoteAddress)
        if let refusal = traffic.check(client) {
            var response = try APIError(.tooManyRequests, refusal.code, refusal.description).response(from: request, context: context)
            response.headers[.retryAfter] = String(GatewayTraffic.secondsToRenewal())
            response.headers[.cacheControl] = "no-store"
            return response
        }
        var response = try await serve()
        // ResponseBody.map would drop the length (and turn a sized body chunked): keep it.
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(writer.map { buffer in
                traffic.add(client, buffer.readableBytes)
                return buffer
            })
        }
        return response
    }

    private static func path(_ context: NodeRequestContext) -> [String] {
        context.parameters.getCatchAll().map { $0.removingPercentEncoding ?? String($0) }
    }

    private func ipfs(_ request: Request, _ context: NodeRequestContext, head: Bool) async throws -> Response {
        let text = try context.parameters.require("cid")
        let root: CID
        do { root = try CID(text: text) } catch { throw APIError(.badRequest, "bad_cid", "\(error)") }
        let path = Self.path(context)
        let access = try capabilities(request)
        // A root marked as one of the presented capabilities' MiMei (any, for the operator) is fetched as that MiMei's.
        var privateTo: ID?
        switch access {
        case .all: privateTo = (try? export.store.privateOwners(root))?.first
        case .granted(let granted) where !granted.isEmpty: privateTo = (try? export.store.privateOwners(root))?.first(where: granted.contains)
        case .granted: break
        }
        return try await serve(request, root: root, path: path, shownPath: "/ipfs/" + ([root.text] + path).joined(separator: "/"),
                               cacheControl: Self.immutable, head: head, access: access, privateTo: privateTo)
    }

    /// The private MiMei a request may read (specs/content.md §Rights): everything with the admin cookie as
    /// bearer (the operator); else a bearer capability — one naming no reader — in `Authorization: Bearer
    /// <hex>` or `?cap=<hex>` (a link a browser can follow), checked against the MiMei's descriptor held
    /// here. A capability naming a reader is that peer's, for the MiMei exchange, and grants nothing here.
    /// Every refusal of a well-formed capability is the same, so none tells whether the MiMei is held.
    /// None presented: a stranger, who sees public content only.
    func capabilities(_ request: Request) throws -> ContentAccess {
        let header = request.headers[.authorization]
        if let adminToken, AdminToken.authenticates(header, token: adminToken) { return .all }
        var text = request.uri.queryParameters["cap"].map(String.init)
        if text == nil, let header, header.hasPrefix("Bearer ") { text = String(header.dropFirst(7)) }
        guard let text else { return .stranger }
        let capability: MiMeiCapability
        do { capability = try MiMeiCapability(text: text.trimmingCharacters(in: .whitespaces)) } catch {
            throw APIError(.badRequest, "bad_capability", "\(error)")
        }
        let refused = APIError(.forbidden, "bad_capability", "the capability grants nothing here (a bearer capability its MiMei's author signed, not expired, is needed)")
        guard capability.reader.isEmpty, let mimei = try? resolver?.store.mimei(capability.mimei) else { throw refused }
        do { try capability.check(mimei, reader: nil, now: UInt64(Date().timeIntervalSince1970 * 1000)) } catch { throw refused }
        return .granted([mimei.id])
    }

    static let referrerPolicyHeader = HTTPField.Name("Referrer-Policy") ?? .server

    /// A response to a request that presented a credential is for that requester only: no shared cache
    /// may keep it, and a link out of it does not carry a `?cap=` in its Referer.
    static func keepPrivate(_ headers: inout HTTPFields) {
        headers[.cacheControl] = "private, no-store"
        headers[.vary] = "Authorization"
        headers[Self.referrerPolicyHeader] = "no-referrer"
    }

    /// `/mm/{mid}[/path][?ver=N]`: the MiMei's version, served as its CID is. A site (a directory with
    /// `index.html` at its root) answers an unknown path with that `index.html`, as a single-page app
    /// expects of its host.
    private func mm(_ request: Request, _ context: NodeRequestContext, head: Bool) async throws -> Response {
        guard let resolver else { throw APIError(.notFound, "not_found", "no MiMei here") }
        let text = try context.parameters.require("mid")
        let access = try capabilities(request)
        let resolved = try await resolver.resolve(text, version: request.uri.queryParameters["ver"].map(String.init), access: access)
        let privateTo = resolved.mimei.isPrivate ? resolved.mimei.id : nil
        let export = self.export.read(by: access)
        let path = Self.path(context)
        let shown = "/mm/" + ([resolved.mimei.id.text] + path).joined(separator: "/")
        let cache = resolved.pinnedVersion ? Self.immutable : Self.mutable
        do {
            var response = try await serve(request, root: resolved.cid, path: path, shownPath: shown, cacheControl: cache, head: head,
                                           access: access, privateTo: privateTo)
            response.headers[Self.mimeiVersionHeader] = "\(resolved.version)"
            return response
        } catch let error as APIError where error.status == .notFound && !path.isEmpty && path.last?.contains(".") != true {
            let deadline = ContinuousClock.now + fetchTimeout
            guard case .directory(let links) = try await fetching(deadline, privateTo: privateTo, { () throws(ContentExport.Failure) in try export.entry(resolved.cid) }),
                  links.contains(where: { $0.name == "index.html" }) else { throw error }
            var response = try await serve(request, root: resolved.cid, path: ["index.html"], shownPath: shown, cacheControl: cache, head: head,
                                           access: access, privateTo: privateTo)
            response.headers[Self.mimeiVersionHeader] = "\(resolved.version)"
            return response
        }
    }

    static let mimeiVersionHeader = HTTPField.Name("X-MiMei-Version") ?? .server

    enum Format: Equatable {
        case unixfs, raw, car(ContentExport.Scope)
    }

    /// The response format from `?format=` (which wins) or `Accept`; 406 for one not served, 400 for a
    /// bad `dag-scope`.
    static func format(_ request: Request) throws -> Format {
        let format = request.uri.queryParameters["format"].map(String.init)
        let accept = request.headers[.accept] ?? ""
        let scopeText = request.uri.queryParameters["dag-scope"].map(String.init) ?? "all"
        guard let scope = ContentExport.Scope(rawValue: scopeText) else {
            throw APIError(.badRequest, "bad_dag_scope", "dag-scope must be all, entity or block, not \(scopeText.prefix(32))")
        }
        switch format {
        case "raw": return .raw
        case "car": return .car(scope)
        case .some(let other): throw APIError(.notAcceptable, "unsupported_format", "format \(other.prefix(32)) is not served (raw and car are)")
        case nil:
            if accept.contains("application/vnd.ipld.raw") { return .raw }
            if accept.contains("application/vnd.ipld.car") {
                // CARv1 only: a client asking for another version is told so.
                if let version = accept.range(of: "version=")?.upperBound, !accept[version...].hasPrefix("1") {
                    throw APIError(.notAcceptable, "unsupported_format", "only CAR version 1 is served")
                }
                return .car(scope)
            }
            return .unixfs
        }
    }

    /// Serves `root` as `access` may read it; what is missing is fetched (as `privateTo`'s when given).
    private func serve(_ request: Request, root: CID, path: [String], shownPath ipfsPath: String, cacheControl: String, head: Bool,
                       access: ContentAccess, privateTo: ID?) async throws -> Response {
        let format = try Self.format(request)
        let deadline = ContinuousClock.now + fetchTimeout
        let export = self.export.read(by: access)
        func fetching<T>(_ deadline: ContinuousClock.Instant, _ body: () throws(ContentExport.Failure) -> T) async throws -> T {
            try await self.fetching(deadline, privateTo: privateTo, body)
        }
        func complete(_ cid: CID, _ deadline: ContinuousClock.Instant) async throws { try await self.complete(cid, deadline, privateTo: privateTo, access: access) }
        func completeShards(_ cid: CID) async throws {
            guard let fetcher else { return }
            do { _ = try await fetcher.fetch(cid, timeout: deadline - .now, privateTo: privateTo, access: access, shardsOnly: true) } catch { throw Self.apiError(error) }
        }
        func file(_ cid: CID, name: String?, size: UInt64?, request: Request, headers: HTTPFields, head: Bool) async throws -> Response {
            try await self.file(cid, name: name, size: size, request: request, headers: headers, head: head, export: export)
        }
        let resolved = try await fetching(deadline) { () throws(ContentExport.Failure) in
            let resolved = try export.resolve(root, path: path)
            // Resolving an empty path reads no block: the root is checked here, before any header says it exists.
            try export.checkReadable(resolved.cid)
            return resolved
        }
        var headers: HTTPFields = [.cacheControl: cacheControl, Self.ipfsPathHeader: ipfsPath,
                                   Self.ipfsRootsHeader: resolved.passed.map(\.text).joined(separator: ",")]
        let etag = switch format {
        case .unixfs: "\"\(resolved.cid.text)\""
        case .raw: "\"\(resolved.cid.text).raw\""
        case .car(let scope): "\"\(root.text).car.\(([scope.rawValue] + path).joined(separator: "/").utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 })\""
        }
        headers[.eTag] = etag
        if access != .stranger { Self.keepPrivate(&headers) }
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        switch format {
        case .raw:
            let block = try await fetching(deadline) { () throws(ContentExport.Failure) in try export.block(resolved.cid) }
            headers[.contentType] = "application/vnd.ipld.raw"
            headers[Self.noSniffHeader] = "nosniff"
            headers[.contentDisposition] = "attachment; filename=\"\(resolved.cid.text).bin\""
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: block)))
        case .car(let scope):
            // The whole scope is fetched before the first byte, so the stream cannot break on a missing block.
            // Entity: a file whole; a directory's or symlink's node alone (so its block is all that is fetched).
            // The terminal's own node says what its entity is (a sharded directory's is its shards).
            let kind: UnixFSData.Kind? = scope == .all ? nil : try await fetching(deadline) { () throws(ContentExport.Failure) in try export.kind(resolved.cid) }
            switch (scope, kind) {
            case (.entity, .hamtShard?): try await completeShards(resolved.cid)
            case (.block, _), (.entity, .directory?), (.entity, .symlink?): break
            default: try await complete(resolved.cid, deadline)
            }
            headers[.contentType] = CARv1.contentType
            headers[Self.noSniffHeader] = "nosniff"
            headers[.contentDisposition] = "attachment; filename=\"\(root.text).car\""
            if head { return Response(status: .ok, headers: headers, body: ResponseBody()) }
            let passed = resolved.passed
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: CARv1.header(roots: [root])))
                try await export.carBlocks(passed: passed, scope: scope) { cid, data in try await writer.write(ByteBuffer(bytes: CARv1.section(cid, data))) }
                try await writer.finish(nil)
            })
        case .unixfs:
            break
        }
        let entry: ContentExport.Entry
        do { entry = try export.entry(resolved.cid) } catch {
            // A sharded directory's missing sub-shards are fetched together, not one by one as the listing meets them.
            if case .notFound = error, export.isShard(resolved.cid) { try await completeShards(resolved.cid) }
            entry = try await fetching(deadline) { () throws(ContentExport.Failure) in try export.entry(resolved.cid) }
        }
        switch entry {
        case .symlink(let target):
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: target)))
        case .directory(let links):
            if let index = links.first(where: { $0.name == "index.html" }) {
                try await complete(index.cid, deadline)
                return try await file(index.cid, name: "index.html", size: nil, request: request, headers: headers, head: head)
            }
            headers[.contentType] = "text/html; charset=utf-8"
            let listing = Self.listing(ipfsPath, links)
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: listing)))
        case .file(let size):
            try await complete(resolved.cid, deadline)
            return try await file(resolved.cid, name: path.last, size: size, request: request, headers: headers, head: head)
        }
    }

    /// Runs `body`; each block it misses is fetched from peers (when this node has a fetcher) and `body`
    /// runs again, until the deadline.
    private func fetching<T>(_ deadline: ContinuousClock.Instant, privateTo: ID?, _ body: () throws(ContentExport.Failure) -> T) async throws -> T {
        for _ in 0..<(ContentExport.depthMax + 2) {
            do { return try body() } catch {
                guard case .notFound(let missing) = error, let fetcher else { throw Self.apiError(error) }
                do { _ = try await fetcher.block(missing, timeout: deadline - .now, privateTo: privateTo) } catch { throw Self.apiError(error) }
            }
        }
        throw APIError(.badGateway, "not_unixfs", "the path goes deeper than \(ContentExport.depthMax) levels")
    }

    /// Makes sure every block under `cid` is held, fetching what is missing before the deadline.
    private func complete(_ cid: CID, _ deadline: ContinuousClock.Instant, privateTo: ID?, access: ContentAccess) async throws {
        let collections = export.store.collections
        guard let fetcher, complete.withLockedValue({ $0[cid] }) != collections else { return }
        // Walked once (blocks held are read, not fetched), then known complete until the next collection.
        // A pin is no proof: `pin add` needs only the root.
        guard fetches.withLockedValue({ count -> Bool in
            guard count < Self.fetchesMax else { return false }
            count += 1
            return true
        }) else { throw APIError(.serviceUnavailable, "busy", "\(Self.fetchesMax) fetches are running; try again") }
        defer { fetches.withLockedValue { $0 -= 1 } }
        do { _ = try await fetcher.fetch(cid, timeout: deadline - .now, privateTo: privateTo, access: access) } catch { throw Self.apiError(error) }
        complete.withLockedValue {
            if $0.count >= 65_536 { $0.removeAll() }
            $0[cid] = collections
        }
    }

    private func file(_ cid: CID, name: String?, size: UInt64?, request: Request, headers: HTTPFields, head: Bool, export: ContentExport) async throws -> Response {
        var headers = headers
        let total: UInt64
        if let size { total = size } else {
            guard case .file(let size) = try export.entry(cid) else { throw APIError(.notFound, "not_found", "index.html is not a file") }
            total = size
        }
        // A small hot file (every block of it public): written from its cached buffer.
        var cached = bodies.body(cid)
        if cached == nil, bodies.shouldAdmit(cid, size: total) {
            var whole = ByteBufferAllocator().buffer(capacity: Int(total))
            do {
                // At most the size declared: a DAG whose leaves add up to more is not read past it.
                try await export.read(by: .stranger).file(cid, range: 0...(total - 1)) { piece in
                    guard UInt64(whole.readableBytes + piece.count) <= total else { throw FirstPieceRead() }
                    whole.writeBytes(piece)
                }
                if UInt64(whole.readableBytes) == total {
                    bodies.admit(cid, whole)
                    cached = whole
                }
            } catch ContentExport.Failure.hidden {
                // Not all public: served as below, never cached.
            } catch is FirstPieceRead {
                // Longer than it says: served as below, which ends the body at the declared size.
            } catch { throw Self.apiError(error) }
        }
        if let cached { return Self.serve(cached, name: name, request: request, headers: headers, head: head) }
        // The file's first piece (a whole leaf: 256 KiB at Kubo's defaults), read once: sniffed for the
        // type here, and written first below instead of being read and hashed a second time.
        var first: [UInt8] = []
        do {
            try await export.file(cid) { piece in
                first += piece
                if first.count >= 512 { throw FirstPieceRead() }
            }
        } catch is FirstPieceRead {
        } catch { throw Self.apiError(error) }
        headers[.contentType] = ContentType.of(name: name, head: Array(first.prefix(512)))
        headers[.acceptRanges] = "bytes"
        var range: ClosedRange<UInt64>?
        var status = HTTPResponse.Status.ok
        if let value = request.headers[.range] {
            switch Self.byteRange(value, size: total) {
            case .whole: break
            case .unsatisfiable: return Self.rangeNotSatisfiable(value, total: total)
            case .part(let part):
                range = part
                status = .partialContent
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(total)"
            }
        }
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? total
        headers[.contentLength] = "\(length)"
        if head || length == 0 { return Response(status: status, headers: headers, body: ResponseBody()) }
        let window = range ?? 0...(total - 1), firstPiece = first
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { writer in
            // Exactly `length` bytes: the size comes from the root's UnixFS data, which whoever built the
            // DAG chose. More bytes than it says are not written; fewer end the connection with an error,
            // so that nothing after the body can pass for another response.
            var left = length
            func emit(_ piece: ArraySlice<UInt8>) async throws {
                let count = Int(min(UInt64(piece.count), left))
                guard count > 0 else { return }
                try await writer.write(ByteBuffer(bytes: piece.prefix(count)))
                left -= UInt64(count)
            }
            var offset = window.lowerBound
            if offset < UInt64(firstPiece.count) {
                let end = min(window.upperBound + 1, UInt64(firstPiece.count))
                try await emit(firstPiece[Int(offset)..<Int(end)])
                offset = end
            }
            if offset <= window.upperBound {
                try await export.file(cid, range: offset...window.upperBound) { try await emit($0[...]) }
            }
            guard left == 0 else { throw ContentExport.Failure.malformed(cid, "its data is shorter than the size it declares") }
            try await writer.finish(nil)
        })
    }

    /// A whole file from its buffer: the type sniffed from its first bytes, one range or all of it.
    static func serve(_ body: ByteBuffer, name: String?, request: Request, headers: HTTPFields, head: Bool) -> Response {
        var headers = headers
        let total = UInt64(body.readableBytes)
        guard total > 0 else { return Response(status: .ok, headers: headers, body: ResponseBody()) }
        headers[.contentType] = ContentType.of(name: name, head: body.getBytes(at: body.readerIndex, length: min(512, body.readableBytes)) ?? [])
        headers[.acceptRanges] = "bytes"
        var window = 0...(total - 1)
        var status = HTTPResponse.Status.ok
        if let value = request.headers[.range] {
            switch byteRange(value, size: total) {
            case .whole: break
            case .unsatisfiable: return rangeNotSatisfiable(value, total: total)
            case .part(let part):
                window = part
                status = .partialContent
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(total)"
            }
        }
        let length = window.upperBound - window.lowerBound + 1
        headers[.contentLength] = "\(length)"
        if head { return Response(status: status, headers: headers, body: ResponseBody()) }
        let slice = body.getSlice(at: body.readerIndex + Int(window.lowerBound), length: Int(length)) ?? ByteBuffer()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: slice))
    }

    /// 416, with the error as APIError writes it and the Content-Range RFC 9110 asks for.
    static func rangeNotSatisfiable(_ value: String, total: UInt64) -> Response {
        let error = APIError(.rangeNotSatisfiable, "range_not_satisfiable", "range \(value.prefix(64)) is outside the \(total)-byte file")
        let body = (try? JSONSerialization.data(withJSONObject: ["error": ["code": error.code, "message": error.message]])) ?? Data()
        var refusal = HTTPFields()
        refusal[.contentRange] = "bytes */\(total)"
        refusal[.contentType] = "application/json"
        return Response(status: .rangeNotSatisfiable, headers: refusal, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Ends the read of a file's first piece.
    private struct FirstPieceRead: Error {}

    enum ByteRange: Equatable {
        case whole, unsatisfiable, part(ClosedRange<UInt64>)
    }

    /// One `Range: bytes=…` (a first-last, first- or -suffix range); several ranges, or another unit, are
    /// answered whole, as RFC 9110 allows.
    static func byteRange(_ value: String, size: UInt64) -> ByteRange {
        guard value.hasPrefix("bytes="), !value.contains(",") else { return .whole }
        let spec = value.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            guard let suffix = UInt64(parts[1]) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part((size - min(suffix, size))...(size - 1))
        }
        guard let first = UInt64(parts[0]) else { return .whole }
        guard first < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .part(first...(size - 1)) }
        guard let last = UInt64(parts[1]), last >= first else { return .whole }
        return .part(first...min(last, size - 1))
    }

    static func listing(_ path: String, _ links: [DagPB.Link]) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
        }
        let base = path.hasSuffix("/") ? path : path + "/"
        let rows = links.map { link in
            let href = base + (link.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? "")
            return "<tr><td><a href=\"\(escape(href))\">\(escape(link.name))</a></td><td>\(link.totalSize)</td><td><code>\(link.cid.text)</code></td></tr>"
        }
        return """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(path))</title></head><body>
            <h1>Index of \(escape(path))</h1><table><tr><th>Name</th><th>Size</th><th>CID</th></tr>
            \(rows.joined(separator: "\n"))
            </table></body></html>
            """
    }

    static func apiError(_ error: Error) -> APIError {
        switch error {
        case BitswapError.deadline: APIError(.gatewayTimeout, "gateway_timeout", "\(error): no peer delivered it in time")
        case BitswapError.notFound: APIError(.notFound, "not_found", "\(error)")
        case BitswapError.hidden(let cid): APIError(.notFound, "not_found", "\(cid) is not held by this node")
        case BitswapError.creditExhausted: APIError(HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), "credit_exhausted", "\(error)")
        case BitswapError.store: APIError(.badGateway, "fetch_failed", "\(error)")
        case BitswapError.cancelled: APIError(.serviceUnavailable, "cancelled", "the fetch was cancelled")
        // A block hidden from this reader is told exactly as one not held.
        case ContentExport.Failure.notFound(let cid), ContentExport.Failure.hidden(let cid): APIError(.notFound, "not_found", "\(cid) is not held by this node")
        case ContentExport.Failure.noSuchPath: APIError(.notFound, "not_found", "\(error)")
        case ContentExport.Failure.store(.damaged): APIError(.internalServerError, "damaged", "\(error)")
        default: APIError(.badGateway, "not_unixfs", "\(error)")
        }
    }
}
