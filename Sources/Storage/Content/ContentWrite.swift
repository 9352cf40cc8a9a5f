import Foundation
import Ledger

/// Writes UnixFS out of the store onto the file system (`ledgerctl ipfs get`): a file as a file, a
/// directory as a directory of its entries, a symlink as a symlink. Entry names come from the DAG, which
/// anyone may have built: a name that is empty, `.` or `..`, or holds `/` or NUL would write outside the
/// target and is refused before anything is written under it.
public struct ContentWrite: Sendable {
    public let export: ContentExport

    /// Entries (files, directories, symlinks) written for one root, at most: a DAG that links one
    /// directory from many places would otherwise write without end.
    public let entriesMax: Int

    public init(export: ContentExport, entriesMax: Int = 1 << 20) {
        self.export = export
        self.entriesMax = entriesMax
    }

    public enum Failure: Error, CustomStringConvertible {
        case unsafeName(CID, String)
        case exists(String)
        case io(String)

        public var description: String {
            switch self {
            case .unsafeName(let cid, let name): "directory \(cid) has an entry named \(name.debugDescription.prefix(80)) (unsafe, or twice), which cannot be written safely"
            case .exists(let path): "\(path) exists already; remove it or pass another --output"
            case .io(let why): why
            }
        }
    }

    public static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.utf8.contains(0) && name.utf8.count <= 255
    }

    /// Writes `root` at `path` (which must not exist); returns the bytes written.
    @discardableResult
    public func write(_ root: CID, to path: String) async throws -> UInt64 {
        guard !FileManager.default.fileExists(atPath: path) else { throw Failure.exists(path) }
        var written: UInt64 = 0
        var entries = 0
        try await write(root, to: path, depth: 0, written: &written, entries: &entries)
        return written
    }

    private func write(_ cid: CID, to path: String, depth: Int, written: inout UInt64, entries: inout Int) async throws {
        guard depth <= ContentExport.depthMax else { throw ContentExport.Failure.malformed(cid, "directories nest deeper than \(ContentExport.depthMax)") }
        entries += 1
        guard entries <= entriesMax else { throw ContentExport.Failure.malformed(cid, "it holds more than \(entriesMax) entries") }
        switch try export.entry(cid) {
        case .file:
            // O_EXCL: never through a symlink or over anything already there.
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
            guard descriptor >= 0 else { throw Failure.io("cannot create \(path): \(String(cString: strerror(errno)))") }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            var count: UInt64 = 0
            try await export.file(cid) { piece in
                try handle.write(contentsOf: piece)
                count += UInt64(piece.count)
            }
            written += count
        case .directory(let links):
            var names = Set<String>()
            for link in links where !Self.isSafe(link.name) || !names.insert(link.name).inserted { throw Failure.unsafeName(cid, link.name) }
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) } catch { throw Failure.io("cannot create \(path): \(error.localizedDescription)") }
            for link in links { try await write(link.cid, to: path + "/" + link.name, depth: depth + 1, written: &written, entries: &entries) }
        case .symlink(let target):
            do { try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target) } catch { throw Failure.io("cannot create the symlink \(path): \(error.localizedDescription)") }
        }
    }
}
