import Foundation
import Ledger
import LedgerTestSupport
import Testing

/// Capabilities to read a private MiMei: only the author's signature grants, only for that MiMei, only
/// until it expires, only to the reader it names (or to any presenter when it names none); any change
/// to the bytes breaks it.
@Suite struct MiMeiCapabilityTests {
    static let author = testKey(1), stranger = testKey(2)
    static let mimei = try! MiMei(author: author.publicKey.id, mark: 7, created: 1_700_000_000_000, isPrivate: true)
    static let reader: [UInt8] = [0x00, 0x24] + Array(repeating: 5, count: 36)

    @Test func theAuthorsCapabilityGrantsItsReaderUntilItExpires() throws {
        let granted = MiMeiCapability(mimei: Self.mimei.id, reader: Self.reader, expires: 2_000, author: Self.author)
        let decoded = try MiMeiCapability(text: granted.text)
        #expect(decoded == granted)
        try decoded.check(Self.mimei, reader: Self.reader, now: 1_999)
        try decoded.check(Self.mimei, reader: nil, now: 1_999)
        #expect(throws: MiMeiCapability.Failure.expired) { try decoded.check(Self.mimei, reader: Self.reader, now: 2_000) }
        #expect(throws: MiMeiCapability.Failure.otherReader) { try decoded.check(Self.mimei, reader: [0x12, 0x20] + Array(repeating: 1, count: 32), now: 1) }
        let other = try MiMei(author: Self.author.publicKey.id, mark: 8, created: 1_700_000_000_000, isPrivate: true)
        #expect(throws: MiMeiCapability.Failure.otherMiMei) { try decoded.check(other, reader: Self.reader, now: 1) }
        // A bearer capability (no reader) grants whoever presents it, a peer included.
        let bearer = MiMeiCapability(mimei: Self.mimei.id, reader: [], expires: 2_000, author: Self.author)
        try bearer.check(Self.mimei, reader: Self.reader, now: 1)
    }

    @Test func aCapabilityNotSignedByTheAuthorOrAlteredGrantsNothing() throws {
        let forged = MiMeiCapability(mimei: Self.mimei.id, reader: [], expires: .max, author: Self.stranger)
        #expect(throws: MiMeiCapability.Failure.notAuthor) { try MiMeiCapability(encoded: forged.encoded).check(Self.mimei, reader: nil, now: 1) }
        let granted = MiMeiCapability(mimei: Self.mimei.id, reader: Self.reader, expires: 2_000, author: Self.author).encoded
        for index in granted.indices {
            var altered = granted
            altered[index] ^= 0x01
            // Either it no longer decodes, or its signature (or its author) no longer checks.
            let changed = try? MiMeiCapability(encoded: altered)
            #expect(changed == nil || (try? changed?.check(Self.mimei, reader: Self.reader, now: 1)) == nil, "byte \(index)")
        }
        #expect(throws: MiMeiCapability.Failure.self) { try MiMeiCapability(encoded: Array(granted.dropLast())) }
        #expect(throws: MiMeiCapability.Failure.self) { try MiMeiCapability(encoded: Array(repeating: 0xa0, count: 600)) }
        #expect(throws: MiMeiCapability.Failure.self) { try MiMeiCapability(text: "not hex") }
    }
}
