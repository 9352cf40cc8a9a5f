import Foundation
import Ledger

/// `ipfs add [-r] [--hidden] [--wrap-with-directory]` over the file system: a file by `FileChunks` and
/// `UnixFSImporter`, a directory by its entries (recursively, hidden ones only with `hidden`), a symlink as
/// a symlink node. Blocks go to `emit` as they are made.
public struct ContentImport {
    public let options: UnixFSImporter.Options
    public var recursive = false
    public var hidden = false
    public var wrap = false

    public init(options: UnixFSImporter.Options, recursive: Bool = false, hidden: Bool = false, wrap: Bool = false) {
        self.options = options
        self.recursive = recursive
        self.hidden = hidden
        self.wrap = wrap
    }

    /// The root of `path`, and the bytes of file content read.
    public func add(_ path: String, emit: UnixFSImporter.Emit) throws -> (root: UnixFSImporter.Node, bytes: UInt64) {
        var bytes: UInt64 = 0
        var node = try entry(path, bytes: &bytes, emit: emit)
        if wrap {
            let name = URL(fileURLWithPath: path).lastPathComponent
            node = try UnixFSDirectory.node([(name, node)], cidVersion: options.cidVersion, emit: emit)
        }
        return (node, bytes)
    }

    private func entry(_ path: String, bytes: inout UInt64, emit: UnixFSImporter.Emit) throws -> UnixFSImporter.Node {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw StoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            var importer = UnixFSImporter(options: options)
            bytes += try FileChunks(path: path, size: options.chunkSize).forEach { try importer.add($0, emit: emit) }
            return try importer.finish(emit: emit)
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            return try UnixFSDirectory.symlink(target, cidVersion: options.cidVersion, emit: emit)
        case S_IFDIR:
            guard recursive else { throw StoreError.io("\(path) is a directory; add it with -r") }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { hidden || !$0.hasPrefix(".") }
            var entries: [(name: String, node: UnixFSImporter.Node)] = []
            for name in names { entries.append((name, try entry(path + "/" + name, bytes: &bytes, emit: emit))) }
            return try UnixFSDirectory.node(entries, cidVersion: options.cidVersion, emit: emit)
        default:
            throw StoreError.io("\(path) is neither a file, a directory nor a symlink")
        }
    }
}
