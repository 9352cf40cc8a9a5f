import Foundation
import Ledger

/// Reads a file in fixed-size chunks, as Kubo's `size-N` chunker does: every chunk is exactly `size`
/// bytes except the last (short reads are filled up), and an empty file gives no chunk. One chunk is in
/// memory at a time, so importing a file of any size takes the same memory.
public struct FileChunks {
    public let path: String
    public let size: Int

    public init(path: String, size: Int) {
        self.path = path
        self.size = size
    }

    /// Calls `body` with each chunk in order; the bytes read in all.
    @discardableResult
    public func forEach(_ body: ([UInt8]) throws -> Void) throws -> UInt64 {
        guard size > 0 else { throw StoreError.io("chunk size must be at least 1 byte") }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw StoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw StoreError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw StoreError.io("\(path) is not a regular file") }
        var total: UInt64 = 0
        var chunk = [UInt8](repeating: 0, count: size)
        while true {
            var filled = 0
            while filled < size {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, size - filled) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                if count == 0 { break }
                filled += count
            }
            if filled == 0 { return total }
            total += UInt64(filled)
            try body(filled == size ? chunk : Array(chunk[..<filled]))
            if filled < size { return total }
        }
    }
}
