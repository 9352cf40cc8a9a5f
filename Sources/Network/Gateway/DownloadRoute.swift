import Foundation
import Hummingbird
import Ledger
import NIOConcurrencyHelpers
import Storage

/// `GET|HEAD /download` (the toolkit seed's): this node's own executable, so that a friend can join, with
/// its CID as `ipfs add` would give it (Kubo's defaults) in `Etag` and `X-Ipfs-Path`, so that the copy can
/// be checked (`ledgerctl ipfs add --only-hash`). The CID is computed at the first request and again
/// whenever the file's size or modification time changes.
public struct DownloadRoute: Sendable {
    let path: String
    /// The CID for a stamp of the file, being computed or computed: one hashing however many ask at once.
    private let known = NIOLockedValueBox<(stamp: [Int], task: Task<CID?, Never>)?>(nil)

    public init(path: String) {
        self.path = path
    }

    /// The running executable (Linux's /proc/self/exe), or the path it was started by.
    public static var runningExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public func register(on router: Router<NodeRequestContext>) {
        router.get("download") { request, _ in try await serve(request, head: false) }
        router.head("download") { request, _ in try await serve(request, head: true) }
    }

    private func stamp() throws -> (size: UInt64, stamp: [Int]) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw APIError(.internalServerError, "download", "the node's executable \(path) cannot be read") }
        return (UInt64(status.st_size), [Int(status.st_size), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec)])
    }

    private func cid(_ stamp: [Int]) async throws -> CID {
        let path = self.path
        let task = known.withLockedValue { known -> Task<CID?, Never> in
            if let known, known.stamp == stamp { return known.task }
            // Hashed off the request's executor, once per version of the file.
            let task = Task.detached(priority: .utility) { try? ContentImport(options: try UnixFSImporter.Options()).add(path) { _, _ in }.root.cid }
            known = (stamp, task)
            return task
        }
        guard let root = await task.value else { throw APIError(.internalServerError, "download", "cannot read the node's executable \(path)") }
        return root
    }

    private func serve(_ request: Request, head: Bool) async throws -> Response {
        let (size, stamp) = try stamp()
        let root = try await cid(stamp)
        var headers: HTTPFields = [.contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"ledgerd\"",
                                   .eTag: "\"\(root.text)\"", GatewayRoutes.ipfsPathHeader: "/ipfs/\(root.text)", .cacheControl: "no-cache"]
        if request.headers[.ifNoneMatch] == "\"\(root.text)\"" { return Response(status: .notModified, headers: headers) }
        headers[.contentLength] = "\(size)"
        if head { return Response(status: .ok, headers: headers, body: ResponseBody()) }
        guard let file = FileHandle(forReadingAtPath: path) else { throw APIError(.internalServerError, "download", "the node's executable cannot be opened") }
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(size)) { writer in
            defer { try? file.close() }
            var left = size
            // Exactly the size announced: a file that shrank meanwhile ends the connection instead.
            while left > 0, let chunk = try file.read(upToCount: Int(min(left, 1 << 20))), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
                left -= UInt64(chunk.count)
            }
            guard left == 0 else { throw APIError(.internalServerError, "download", "the executable changed while it was sent") }
            try await writer.finish(nil)
        })
    }
}
