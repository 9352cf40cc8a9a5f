import CZstd

/// zstd compression for block bodies. This file owns every pointer into libzstd.
public enum Compression {
    public static let level: Int32 = 3

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                ZSTD_compress(target.baseAddress, bound, source.baseAddress, source.count, level)
            }
        }
        precondition(ZSTD_isError(written) == 0, "zstd compression cannot fail with a bound-sized buffer")
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses a frame whose content size is recorded and at most `sizeMax` bytes; anything else
    /// (a truncated or foreign frame) is an error, never a crash or an unbounded allocation.
    public static func decompress(_ input: [UInt8], sizeMax: Int) throws(Failure) -> [UInt8] {
        let size = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest UInt64 values.
        guard size < UInt64.max - 1 else { throw Failure(description: "block body is not a complete zstd frame") }
        guard size <= UInt64(sizeMax) else { throw Failure(description: "block body would decompress to \(size) bytes, above the \(sizeMax) limit") }
        var output = [UInt8](repeating: 0, count: Int(size))
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                ZSTD_decompress(target.baseAddress, target.count, source.baseAddress, source.count)
            }
        }
        guard ZSTD_isError(written) == 0, written == Int(size) else {
            throw Failure(description: "block body is damaged (zstd: \(String(cString: ZSTD_getErrorName(written))))")
        }
        return output
    }
}
