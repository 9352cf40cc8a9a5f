import Foundation
import Testing
@testable import Ledger

@Suite struct CBORTests {
    static func value(_ json: Any) throws -> CBOR {
        guard let object = json as? [String: Any], let (kind, inner) = object.first else { throw DecodeError.schema("bad vector") }
        switch kind {
        case "uint": return .unsigned(inner is String ? UInt64(inner as! String)! : (inner as! NSNumber).uint64Value)
        case "nint": return .negative((inner as! NSNumber).uint64Value)
        case "bytes": return .bytes(Hex.decode(inner as! String)!)
        case "text": return .text(inner as! String)
        case "array": return .array(try (inner as! [Any]).map(value))
        case "map": return .map(try (inner as! [String: Any]).mapValues(value))
        case "bool": return .bool((inner as! NSNumber).boolValue)
        case "null": return .null
        case "link": return .link(Hex.decode(inner as! String)!)
        default: throw DecodeError.schema("unknown vector kind \(kind)")
        }
    }

    static func vectors() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try Repository.vector("encoding.json")) as! [String: Any]
    }

    @Test func validVectorsDecodeAndReencode() throws {
        let valid = try Self.vectors()["valid"] as! [[String: Any]]
        #expect(valid.count >= 30)
        for vector in valid {
            let bytes = Hex.decode(vector["hex"] as! String)!
            let expected = try Self.value(vector["value"]!)
            #expect(try CBORDecoder.decode(bytes) == expected, "\(vector["name"]!)")
            #expect(CBOREncoder.encode(expected) == bytes, "\(vector["name"]!)")
        }
    }

    @Test func invalidVectorsAreRejectedForTheRightReason() throws {
        let invalid = try Self.vectors()["invalid"] as! [[String: Any]]
        for vector in invalid {
            let bytes = Hex.decode(vector["hex"] as! String)!
            let name = vector["name"] as! String, reason = vector["error"] as! String
            do {
                _ = try CBORDecoder.decode(bytes)
                Issue.record("\(name) decoded but must be rejected")
            } catch {
                #expect(caseName(error) == reason, "\(name): got \(caseName(error)), expected \(reason)")
            }
        }
    }

    private func caseName(_ error: DecodeError) -> String {
        switch error {
        case .truncated: "truncated"
        case .trailingBytes: "trailingBytes"
        case .nonMinimalInteger: "nonMinimalInteger"
        case .indefiniteLength: "indefiniteLength"
        case .unsupported: "unsupported"
        case .invalidUTF8: "invalidUTF8"
        case .mapKeyNotText: "mapKeyNotText"
        case .mapKeysOutOfOrder: "mapKeysOutOfOrder"
        case .duplicateMapKey: "duplicateMapKey"
        case .tooDeep: "tooDeep"
        case .tooLarge: "tooLarge"
        case .schema: "schema"
        }
    }

    @Test func nestingDeeperThanTheLimitIsRejected() {
        let deep = [UInt8](repeating: 0x81, count: CBORDecoder.depthMax + 2) + [0x00]
        #expect(throws: DecodeError.tooDeep) { try CBORDecoder.decode(deep) }
    }

    @Test func objectsRejectUnknownAndMissingFields() throws {
        let tx = Transaction(chain: "c", type: "transfer", signers: [testKey(1).publicKey], nonce: 0, expiry: 9, body: .map([:]))
        guard case .map(var map) = tx.cbor else { Issue.record("not a map"); return }
        map["extra"] = .unsigned(1)
        #expect(throws: DecodeError.schema("transaction: unknown field 'extra'")) { try Transaction(cbor: .map(map)) }
        map.removeValue(forKey: "extra")
        map.removeValue(forKey: "nonce")
        #expect(throws: DecodeError.schema("transaction: missing field 'nonce'")) { try Transaction(cbor: .map(map)) }
    }
}

/// Decoders meet hostile bytes: random buffers, every truncation and bit flips of valid encodings.
/// None may crash; each either decodes or throws. Seeded, so a failure replays.
@Suite struct DecoderRobustnessTests {
    static func sampleEncodings() -> [[UInt8]] {
        let a = testKey(1), b = testKey(2)
        let transfer = Transaction(chain: "ledgerd-test", type: "transfer", signers: [a.publicKey, b.publicKey], nonce: 3, expiry: 100,
                                   body: TransferRule.body(to: b.publicKey.id, amount: 1 << 30))
        let signed = SignedTransaction(transaction: transfer, keys: [a, b])
        let header = BlockHeader(chain: "ledgerd-test", height: 1, pulse: 2, timeMillis: 3, previous: .zero, lastCommit: .zero,
                                 bookkeepers: .zero, nextBookkeepers: .zero, transactionRoot: signed.id,
                                 stateRoot: .zero, proposer: a.publicKey.id, transactionCount: 1)
        let block = Block(header: header, transactions: [signed], commit: nil, lastCommit: nil).certified(by: [a, b])
        let tree = SparseMerkleTree().updating([(a.publicKey.id, .zero), (b.publicKey.id, .zero)])
        return [signed.encoded, block.encoded, header.encoded, tree.proof(for: a.publicKey.id).encoded]
    }

    static func decodeAll(_ bytes: [UInt8]) {
        _ = try? SignedTransaction.decodeUntrusted(bytes)
        _ = try? Block.decodeUntrusted(bytes)
        _ = try? BlockHeader(encoded: bytes)
        _ = try? StateProof(encoded: bytes)
        _ = try? CBORDecoder.decode(bytes)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 0x1ed9e5)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...96, using: &generator)
            Self.decodeAll(generator.bytes(count))
        }
    }

    @Test func everyTruncationIsRejected() {
        for encoding in Self.sampleEncodings() {
            for length in 0..<encoding.count {
                let prefix = Array(encoding.prefix(length))
                #expect((try? CBORDecoder.decode(prefix)) == nil, "a \(length)-byte prefix must not decode")
                Self.decodeAll(prefix)
            }
        }
    }

    @Test func bitFlipsNeverCrashAndNeverKeepTheSameID() {
        var generator = SeededGenerator(seed: 0xf11b)
        let original = Self.sampleEncodings()[0]
        let originalTransaction = try! SignedTransaction(encoded: original)
        var decodedAfterFlip = 0
        for _ in 0..<20_000 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                mutated[index] ^= 1 << UInt8.random(in: 0...7, using: &generator)
            }
            Self.decodeAll(mutated)
            // Two flips of the same bit cancel out; only a changed encoding is a mutation.
            if mutated == original { continue }
            if let decoded = try? SignedTransaction.decodeUntrusted(mutated) {
                decodedAfterFlip += 1
                // One canonical encoding per object: different bytes can never decode to the same transaction.
                #expect(decoded != originalTransaction)
                #expect(!(decoded.id == originalTransaction.id && decoded.signaturesAreValid() && decoded.signatures != originalTransaction.signatures))
            }
        }
        #expect(decodedAfterFlip < 20_000)
    }

    @Test func oversizedTransactionIsRefusedBeforeDecoding() {
        #expect(throws: DecodeError.tooLarge) { try SignedTransaction.decodeUntrusted([UInt8](repeating: 0, count: Transaction.encodedBytesMax + 1)) }
    }
}

/// Issue 9, hole 9: text that differs in bytes is different text, whatever Unicode says is equivalent.
@Suite struct CBORByteEqualityTests {
    @Test func canonicallyEquivalentKeysDoNotCollapse() throws {
        // {"K": 1, "\u{212A}": 2}: distinct, canonically ordered keys (1 byte, then 3 bytes).
        let bytes: [UInt8] = [0xa2, 0x61, 0x4b, 0x01, 0x63, 0xe2, 0x84, 0xaa, 0x02]
        #expect(throws: DecodeError.duplicateMapKey) { try CBORDecoder.decode(bytes) }
    }

    @Test func textComparesByBytes() throws {
        #expect(CBOR.text("K") != CBOR.text("\u{212A}"))
        #expect(CBOR.text("\u{e9}") != CBOR.text("e\u{301}"))
        #expect(CBOR.map(["K": .unsigned(1)]) != CBOR.map(["\u{212A}": .unsigned(1)]))
        #expect(Set([CBOR.text("K"), CBOR.text("\u{212A}")]).count == 2)
        #expect(!"Kdev".sameBytes(as: "\u{212A}dev"))
    }

    @Test func aFieldIsFoundOnlyUnderItsExactBytes() throws {
        var fields = try CBORFields(.map(["\u{212A}ind": .text("x")]), schema: "test")
        #expect(!fields.hasField("Kind"))
        #expect(throws: DecodeError.self) { _ = try fields.value("Kind") }
    }
}
