import Testing
@testable import Ledger

@Suite struct IDTests {
    /// BIP-350's valid and invalid Bech32m strings.
    static let validBech32m = [
        "A1LQFN3A", "a1lqfn3a", "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v", "?1v759aa",
    ]
    static let invalidBech32m = [
        "\u{20}1xj0phk", "\u{7F}1g6xzxy", "\u{80}1vctc34",
        "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
        "qyrz8wqd2c9m", "1qyrz8wqd2c9m", "y1b0jsk6g", "lt1igcx5c0", "in1muywd", "mm1crxm3i", "au1s5cgom", "M1VUXWEZ", "16plkw9",
        "1p2gdwpf", "A12UEL5L",  // the last is valid Bech32 (BIP-173), not Bech32m
    ]

    @Test func bip350Vectors() {
        for text in Self.validBech32m {
            let decoded = try? Bech32m.decode(text)
            #expect(decoded != nil, "\(text) should decode")
            if let decoded { #expect(Bech32m.encode(prefix: decoded.prefix, groups: decoded.groups) == text.lowercased()) }
        }
        for text in Self.invalidBech32m {
            #expect((try? Bech32m.decode(text)) == nil, "\(text.debugDescription) should be rejected")
        }
    }

    @Test func textRoundTrips() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let id = ID(bytes: generator.bytes(20))!
            #expect(id.text.hasPrefix("ld1"))
            #expect(try ID(text: id.text) == id)
            #expect(try ID(text: id.text.uppercased()) == id)
        }
    }

    /// Every single-character substitution of an ID's text is rejected: the checksum catches typos.
    @Test func everySingleTypoIsDetected() {
        let text = Array(testKey(3).publicKey.id.text)
        let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        var tried = 0
        for position in 3..<text.count {
            for replacement in alphabet where replacement != text[position] {
                var typo = text
                typo[position] = replacement
                #expect((try? ID(text: String(typo))) == nil)
                tried += 1
            }
        }
        #expect(tried == (text.count - 3) * 31)
    }

    @Test func wrongPrefixAndLengthAreExplained() {
        let groups = try! Bech32m.convertBits([UInt8](repeating: 1, count: 20), from: 8, to: 5, pad: true)
        #expect(throws: ID.ParseError.wrongPrefix("bc")) { try ID(text: Bech32m.encode(prefix: "bc", groups: groups)) }
        let short = try! Bech32m.convertBits([UInt8](repeating: 1, count: 19), from: 8, to: 5, pad: true)
        #expect(throws: ID.ParseError.self) { try ID(text: Bech32m.encode(prefix: "ld", groups: short)) }
    }

    @Test func idIsTaggedHashOfKey() {
        let key = testKey(1).publicKey
        #expect(key.id.bytes == Array(SHA256.tagged("ledgerd/id", key.bytes).bytes.prefix(20)))
        #expect(ID.derived("member", [key.id, key.id]) != ID.derived("credit", [key.id, key.id]))
    }

    @Test func bitsAreMostSignificantFirst() {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[0] = 0b1000_0001
        bytes[19] = 0b0000_0001
        let id = ID(bytes: bytes)!
        #expect(id.bit(0) && !id.bit(1) && id.bit(7) && id.bit(159) && !id.bit(158))
    }
}
