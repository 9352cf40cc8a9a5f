import Foundation
import Ledger

/// A transaction that still lacks some signatures, passed between signers as a JSON file:
/// `{"tx": "<hex of the unsigned transaction>", "signatures": ["<hex>" or null, …]}`.
struct PartialTransaction {
    var transaction: Transaction
    var signatures: [Signature?]

    func write(to path: String) throws {
        let object: [String: Any] = ["tx": Hex.encode(transaction.encoded), "signatures": signatures.map { $0?.hex ?? NSNull() as Any }]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw CLIError("cannot write \(path)") }
    }

    static func read(from path: String) throws -> PartialTransaction {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let hex = object["tx"] as? String,
            let bytes = Hex.decode(hex), let items = object["signatures"] as? [Any]
        else { throw CLIError("\(path) is not a partial transaction file ({\"tx\": hex, \"signatures\": [...]})") }
        let transaction: Transaction
        do { transaction = try Transaction(encoded: bytes) } catch { throw CLIError("\(path): transaction does not decode: \(error)") }
        guard items.count == transaction.signers.count else { throw CLIError("\(path): \(items.count) signature slots for \(transaction.signers.count) signers") }
        var signatures: [Signature?] = []
        for (index, item) in items.enumerated() {
            if item is NSNull { signatures.append(nil); continue }
            guard let text = item as? String, let raw = Hex.decode(text), let signature = try? Signature(bytes: raw),
                transaction.signers[index].verify(signature, for: transaction.signingDigest)
            else { throw CLIError("\(path): signature \(index + 1) does not verify") }
            signatures.append(signature)
        }
        return PartialTransaction(transaction: transaction, signatures: signatures)
    }
}
