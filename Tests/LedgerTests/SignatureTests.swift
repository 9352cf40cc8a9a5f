import Foundation
import Testing
@testable import Ledger

@Suite struct SignatureTests {
    struct Vector {
        let index: Int, secret: [UInt8]?, publicKey: [UInt8], auxiliary: [UInt8]?, message: [UInt8], signature: [UInt8], valid: Bool
    }

    /// BIP-340's published test vectors (specs/vectors/bip340.csv, copied from the BIP unchanged).
    static func vectors() throws -> [Vector] {
        let text = String(decoding: try Repository.vector("bip340.csv"), as: UTF8.self)
        return text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Vector(
                index: Int(fields[0])!, secret: fields[1].isEmpty ? nil : Hex.decode(fields[1]), publicKey: Hex.decode(fields[2])!,
                auxiliary: fields[3].isEmpty ? nil : Hex.decode(fields[3]), message: Hex.decode(fields[4])!,
                signature: Hex.decode(fields[5])!, valid: fields[6] == "TRUE")
        }
    }

    @Test func bip340VectorsAllPass() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 19)
        for vector in vectors {
            if let secret = vector.secret, let auxiliary = vector.auxiliary {
                let key = try SecretKey(bytes: secret)
                #expect(key.publicKey.bytes == vector.publicKey, "vector \(vector.index): public key")
                #expect(key.sign(vector.message, auxiliaryRandom: auxiliary).bytes == vector.signature, "vector \(vector.index): signature")
            }
            let verified: Bool
            if let key = try? PublicKey(bytes: vector.publicKey) {
                verified = key.verify(try Signature(bytes: vector.signature), for: vector.message)
            } else {
                verified = false  // vectors 5 and 14: the key itself is invalid
            }
            #expect(verified == vector.valid, "vector \(vector.index): verification")
        }
    }

    @Test func domainTagsSeparatePurposes() {
        let key = testKey(1)
        let message = Array("the same bytes".utf8)
        let asTransaction = key.sign(SHA256.tagged("ledgerd/tx", message))
        #expect(key.publicKey.verify(asTransaction, for: SHA256.tagged("ledgerd/tx", message)))
        #expect(!key.publicKey.verify(asTransaction, for: SHA256.tagged("ledgerd/block", message)))
    }

    @Test func taggedHashMatchesBIP340Definition() {
        // TaggedHash(tag, x) = SHA256(SHA256(tag) || SHA256(tag) || x)
        let tag = SHA256.hash(Array("BIP0340/challenge".utf8)).bytes
        #expect(SHA256.tagged("BIP0340/challenge", [1, 2, 3]) == SHA256.hash(tag + tag + [1, 2, 3]))
    }

    @Test func invalidSecretKeysAreRefused() {
        #expect(throws: SignatureError.invalidSecretKey) { try SecretKey(bytes: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: SignatureError.invalidSecretKey) { try SecretKey(bytes: [UInt8](repeating: 0xff, count: 32)) }
        #expect(throws: SignatureError.invalidSecretKey) { try SecretKey(bytes: [1, 2, 3]) }
    }

    @Test func sha256KnownAnswer() {
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
