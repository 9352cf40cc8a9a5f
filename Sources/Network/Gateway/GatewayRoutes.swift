import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import Storage

/// The path gateway on the HTTP port (specs/content.md §Gateway), after the IPFS HTTP Gateway specs:
/// `GET|HEAD /ipfs/{cid}[/path]` serves a UnixFS file (with `Range`), a directory's `index.html` or its
/// listing, or the block itself (`?format=raw`, `Accept: application/vnd.ipld.raw`), from this node's
/// content store, each block checked against its CID. Content under /ipfs/ never changes: it is cached
/// for a year and revalidated by its Etag.
public struct GatewayRoutes: Sendable {
    let export: ContentExport
    static let immutable = "public, max-age=29030400, immutable"
    // Valid field names, so the fallbacks are never taken (they keep a trap out of the code).
    static let ipfsPathHeader = HTTPField.Name("X-Ipfs-Path") ?? .server
    static let ipfsRootsHeader = HTTPField.Name("X-Ipfs-Roots") ?? .server
    static let noSniffHeader = HTTPField.Name("X-Content-Type-Options") ?? .server

    public init(store: ContentStore) { export = ContentExport(store: store) }

    public func register(on router: Router<BasicRequestContext>) {
        for path in ["ipfs/:cid", "ipfs/:cid/**"] {
            router.get(RouterPath(path)) { request, context in try await serve(request, context, head: false) }
            router.head(RouterPath(path)) { request, context in try await serve(request, context, head: true) }
        }
    }

    private func serve(_ request: Request, _ context: BasicRequestContext, head: Bool) async throws -> Response {
        let text = try context.parameters.require("cid")
        let root: CID
        do { root = try CID(text: text) } catch { throw APIError(.badRequest, "bad_cid", "\(error)") }
        let path = context.parameters.getCatchAll().map { $0.removingPercentEncoding ?? String($0) }
        let resolved: (cid: CID, passed: [CID])
        do { resolved = try export.resolve(root, path: path) } catch { throw Self.apiError(error) }
        let ipfsPath = "/ipfs/" + ([root.text] + path).joined(separator: "/")
        var headers: HTTPFields = [.cacheControl: Self.immutable, Self.ipfsPathHeader: ipfsPath,
                                   Self.ipfsRootsHeader: resolved.passed.map(\.text).joined(separator: ",")]
        let format = request.uri.queryParameters["format"].map(String.init)
        let accept = request.headers[.accept] ?? ""
        let raw = format == "raw" || (format == nil && accept.contains("application/vnd.ipld.raw"))
        if let format, format != "raw" {
            throw APIError(.notAcceptable, "unsupported_format", "format \(format.prefix(32)) is not served (raw is; car is not built yet)")
        }
        if format == nil, !raw, accept.contains("application/vnd.ipld.car") {
            throw APIError(.notAcceptable, "unsupported_format", "CAR responses are not built yet")
        }
        let etag = "\"\(resolved.cid.text)\(raw ? ".raw" : "")\""
        headers[.eTag] = etag
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        if raw {
            let block: [UInt8]
            do { block = try export.block(resolved.cid) } catch { throw Self.apiError(error) }
            headers[.contentType] = "application/vnd.ipld.raw"
            headers[Self.noSniffHeader] = "nosniff"
            headers[.contentDisposition] = "attachment; filename=\"\(resolved.cid.text).bin\""
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: block)))
        }
        let entry: ContentExport.Entry
        do { entry = try export.entry(resolved.cid) } catch { throw Self.apiError(error) }
        switch entry {
        case .symlink(let target):
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: target)))
        case .directory(let links):
            if let index = links.first(where: { $0.name == "index.html" }) {
                return try await file(index.cid, name: "index.html", size: nil, request: request, headers: headers, head: head)
            }
            headers[.contentType] = "text/html; charset=utf-8"
            let listing = Self.listing(ipfsPath, links)
            return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: listing)))
        case .file(let size):
            return try await file(resolved.cid, name: path.last, size: size, request: request, headers: headers, head: head)
        }
    }

    private func file(_ cid: CID, name: String?, size: UInt64?, request: Request, headers: HTTPFields, head: Bool) async throws -> Response {
        var headers = headers
        let total: UInt64
        if let size { total = size } else {
            guard case .file(let size) = try export.entry(cid) else { throw APIError(.notFound, "not_found", "index.html is not a file") }
            total = size
        }
        var first: [UInt8] = []
        do { try await export.file(cid, range: total == 0 ? nil : 0...min(total, 512) - 1) { first += $0 } } catch { throw Self.apiError(error) }
        headers[.contentType] = ContentType.of(name: name, head: first)
        headers[.acceptRanges] = "bytes"
        var range: ClosedRange<UInt64>?
        var status = HTTPResponse.Status.ok
        if let value = request.headers[.range] {
            switch Self.byteRange(value, size: total) {
            case .whole: break
            case .unsatisfiable:
                // The error as APIError writes it, with the Content-Range RFC 9110 asks for.
                let error = APIError(.rangeNotSatisfiable, "range_not_satisfiable", "range \(value.prefix(64)) is outside the \(total)-byte file")
                let body = (try? JSONSerialization.data(withJSONObject: ["error": ["code": error.code, "message": error.message]])) ?? Data()
                var refusal = HTTPFields()
                refusal[.contentRange] = "bytes */\(total)"
                refusal[.contentType] = "application/json"
                return Response(status: .rangeNotSatisfiable, headers: refusal, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
            case .part(let part):
                range = part
                status = .partialContent
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(total)"
            }
        }
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? total
        headers[.contentLength] = "\(length)"
        if head || length == 0 { return Response(status: status, headers: headers, body: ResponseBody()) }
        let export = self.export, window = range ?? 0...(total - 1)
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { writer in
            try await export.file(cid, range: window) { try await writer.write(ByteBuffer(bytes: $0)) }
            try await writer.finish(nil)
        })
    }

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
        case ContentExport.Failure.notFound(let cid): APIError(.notFound, "not_found", "\(cid) is not held by this node")
        case ContentExport.Failure.noSuchPath: APIError(.notFound, "not_found", "\(error)")
        case ContentExport.Failure.store(.damaged): APIError(.internalServerError, "damaged", "\(error)")
        default: APIError(.badGateway, "not_unixfs", "\(error)")
        }
    }
}
