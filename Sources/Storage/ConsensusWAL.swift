#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Ledger

/// The consensus write-ahead log: every message a bookkeeper signs is appended and fsynced before it is
/// sent, so that after a crash the node says the same again instead of signing something else
/// (specs/consensus.md §Write-ahead log). Records: 4-byte big-endian length, the bytes, and the first 4
/// bytes of their SHA-256. A torn or damaged tail (a crash mid-write) ends the log; what precedes it is kept.
public final class ConsensusWAL: @unchecked Sendable {
    public static let recordBytesMax = 40 << 20
    public let path: String
    private var descriptor: Int32

    public init(path: String) throws(StoreError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.io("cannot open the consensus log \(path): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// Every intact record, in order; a damaged tail is cut off the file.
    public func records() throws(StoreError) -> [[UInt8]] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw StoreError.io("cannot read the consensus log \(path)") }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw StoreError.io("cannot read the consensus log \(path): errno \(errno)") }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        var records: [[UInt8]] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= Self.recordBytesMax, offset + 8 + length <= bytes.count else { break }
            let record = Array(bytes[(offset + 4)..<(offset + 4 + length)])
            guard Array(SHA256.hash(record).bytes.prefix(4)) == Array(bytes[(offset + 4 + length)..<(offset + 8 + length)]) else { break }
            records.append(record)
            offset += 8 + length
        }
        if offset < bytes.count { _ = ftruncate(descriptor, off_t(offset)) }
        return records
    }

    /// Appends one record and waits until it is on disk.
    public func append(_ record: [UInt8]) throws(StoreError) {
        guard record.count <= Self.recordBytesMax else { throw StoreError.io("a consensus log record of \(record.count) bytes is too large") }
        let length = UInt32(record.count)
        let framed = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + record
            + SHA256.hash(record).bytes.prefix(4)
        let written = framed.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == framed.count, fsync(descriptor) == 0 else { throw StoreError.io("cannot write the consensus log \(path): errno \(errno)") }
    }

    /// Replaces the log with `records` (those still needed after a commit): written aside, then renamed.
    public func rewrite(_ records: [[UInt8]]) throws(StoreError) {
        let temporary = path + ".new"
        let fresh = try ConsensusWAL(path: temporary)
        _ = ftruncate(fresh.descriptor, 0)
        for record in records { try fresh.append(record) }
        guard rename(temporary, path) == 0 else { throw StoreError.io("cannot replace the consensus log \(path): errno \(errno)") }
        // The rename itself must reach the disk before anything is appended to the new file.
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
        let reopened = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard reopened >= 0 else { throw StoreError.io("cannot reopen the consensus log \(path): errno \(errno)") }
        close(descriptor)
        descriptor = reopened
    }
}
