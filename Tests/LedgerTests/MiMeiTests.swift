import Ledger
import LedgerTestSupport
import Testing

/// A MiMei's ID is fixed by its descriptor, and its head is accepted in the DHT only as its author
/// signed it: for its own ID, with the version as the record's sequence number.
@Suite struct MiMeiTests {
    static let author = testKey(1), stranger = testKey(2)

    static func mimei(_ mark: UInt64 = 7) throws -> MiMei {
        try MiMei(author: author.publicKey.id, app: "site", ext: "html", mark: mark, created: 1_796_000_000_000)
    }

    @Test func theIDComesFromTheDescriptorAndTheDescriptorRoundTrips() throws {
        let one = try Self.mimei(), other = try Self.mimei(8)
        let again = try Self.mimei()
        #expect(one.id != other.id && one.id == again.id)
        #expect(try MiMei(cbor: try CBORDecoder.decode(one.encoded)) == one)
        #expect(one.headKey == "/ledgerd/mimei/\(one.id.text)")
        #expect(throws: ContentError.self) { try MiMei(author: Self.author.publicKey.id, app: String(repeating: "x", count: 65), mark: 1, created: 1) }
    }

    @Test func onlyTheAuthorsHeadForItsOwnIDAndVersionIsAccepted() throws {
        let mimei = try Self.mimei(), cid = CID.v0(Array("content".utf8))
        let head = try MiMeiHead(mimei: mimei, version: 2, cid: cid, endOfLife: 2_000_000_000_000)
        let good = DHTRecord(key: mimei.headKey, value: head.encoded, seq: 2, signer: Self.author)
        #expect(try DHTRecord(encoded: good.encoded, expectedKey: mimei.headKey) == good)
        #expect(!good.expired(atMillis: 1_999_999_999_999) && good.expired(atMillis: 2_000_000_000_000))
        // Signed by someone else, the sequence not the version, under another MiMei's key, or not a head.
        for forged in [DHTRecord(key: mimei.headKey, value: head.encoded, seq: 2, signer: Self.stranger),
                       DHTRecord(key: mimei.headKey, value: head.encoded, seq: 3, signer: Self.author),
                       DHTRecord(key: try Self.mimei(9).headKey, value: head.encoded, seq: 2, signer: Self.author),
                       DHTRecord(key: mimei.headKey, value: Array("v2".utf8), seq: 2, signer: Self.author)] {
            #expect(throws: DHTRecordError.self) { try DHTRecord(encoded: forged.encoded, expectedKey: forged.key) }
        }
        // A stranger's own descriptor naming the author cannot be signed by the stranger either.
        let claimed = try MiMei(author: Self.author.publicKey.id, mark: 99, created: 1)
        let theft = DHTRecord(key: claimed.headKey, value: try MiMeiHead(mimei: claimed, version: 1, cid: cid, endOfLife: .max).encoded, seq: 1, signer: Self.stranger)
        #expect(throws: DHTRecordError.self) { try DHTRecord(encoded: theft.encoded, expectedKey: claimed.headKey) }
    }
}
