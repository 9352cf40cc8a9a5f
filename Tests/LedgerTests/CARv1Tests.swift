import Ledger
import Testing

/// CARv1 as the gateway writes it and `ledgerctl ipfs get` reads it: the header names its roots, blocks
/// come back exactly, a reader fed byte by byte gets the same, and a block that does not match its CID,
/// a header that is not one, or an oversized section is refused.
@Suite struct CARv1Tests {
    static let blocks: [(CID, [UInt8])] = [(CID.raw(Array("one".utf8)), Array("one".utf8)), (CID.v0(Array("two".utf8)), Array("two".utf8))]
    static var car: [UInt8] { CARv1.header(roots: [blocks[0].0]) + blocks.flatMap { CARv1.section($0.0, $0.1) } }

    static func readAll(_ bytes: [UInt8], pieces: Int) throws(ContentError) -> (roots: [CID]?, blocks: [(CID, [UInt8])], atEnd: Bool) {
        var reader = CARv1.Reader()
        var out: [(CID, [UInt8])] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + pieces)
            reader.feed(Array(bytes[index..<end]))
            index = end
            while let block = try reader.next() { out.append(block) }
        }
        return (reader.roots, out, reader.atEnd)
    }

    @Test func aCARReadsBackWholeOrByteByByte() throws {
        for pieces in [1, 7, Self.car.count] {
            let read = try Self.readAll(Self.car, pieces: pieces)
            #expect(read.roots == [Self.blocks[0].0] && read.atEnd)
            #expect(read.blocks.map(\.0) == Self.blocks.map(\.0) && read.blocks.map(\.1) == Self.blocks.map(\.1))
        }
    }

    @Test func aDamagedOrHostileCARIsRefused() {
        var wrong = Self.car
        wrong[wrong.count - 1] ^= 1  // the last block's data
        #expect(throws: ContentError.self) { _ = try Self.readAll(wrong, pieces: 1_000) }
        // A section longer than any block.
        #expect(throws: ContentError.self) { _ = try Self.readAll(Varint.encode(1 << 30), pieces: 1_000) }
        // A header that is not a CBOR map, and one of another version.
        #expect(throws: ContentError.self) { _ = try Self.readAll([0x01, 0x01], pieces: 1_000) }
        let version2: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x80, 0x67] + Array("version".utf8) + [0x02]
        #expect(throws: ContentError.self) { _ = try Self.readAll(Varint.encode(UInt64(version2.count)) + version2, pieces: 1_000) }
        // Truncated: no error, but not at the end either.
        let truncated = try? Self.readAll(Array(Self.car.dropLast(2)), pieces: 1_000)
        #expect(truncated?.blocks.count == 1 && truncated?.atEnd == false)
    }
}
