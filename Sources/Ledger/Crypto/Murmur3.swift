/// MurmurHash3, x64 128-bit variant with seed 0 (Austin Appleby's reference), as UnixFS HAMT directories
/// hash entry names (multicodec `murmur3-x64-64`, 0x22): the first 64-bit half, h1, written big-endian —
/// what spaolacci/murmur3's `New64().Sum(nil)`, which boxo uses, returns.
public enum Murmur3 {
    public static func x64_64(_ data: [UInt8]) -> [UInt8] {
        let h1 = x64_128(data).h1
        return (0..<8).map { UInt8(truncatingIfNeeded: h1 >> (56 - 8 * UInt64($0))) }
    }

    public static func x64_128(_ data: [UInt8]) -> (h1: UInt64, h2: UInt64) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5, c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1: UInt64 = 0, h2: UInt64 = 0
        func word(_ offset: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[offset + $1]) << (8 * UInt64($1)) } }
        func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
        let blocks = data.count / 16
        for block in 0..<blocks {
            var k1 = word(block * 16), k2 = word(block * 16 + 8)
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
            h1 = rotl(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
            h2 = rotl(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16, rest = data.count & 15
        var k1: UInt64 = 0, k2: UInt64 = 0
        if rest > 8 {
            for index in stride(from: rest - 1, through: 8, by: -1) { k2 ^= UInt64(data[tail + index]) << (8 * UInt64(index - 8)) }
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
        }
        if rest > 0 {
            for index in stride(from: min(rest, 8) - 1, through: 0, by: -1) { k1 ^= UInt64(data[tail + index]) << (8 * UInt64(index)) }
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
        }
        h1 ^= UInt64(data.count); h2 ^= UInt64(data.count)
        h1 &+= h2; h2 &+= h1
        h1 = fmix(h1); h2 = fmix(h2)
        h1 &+= h2; h2 &+= h1
        return (h1, h2)
    }

    static func fmix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33; k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33; k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
