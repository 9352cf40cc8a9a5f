import ArgumentParser
import Ledger

struct ProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Fetch a state proof for a key and verify it here: header hash, bookkeeper seals, proof, value.",
        discussion: """
            The node is not trusted: the header is rehashed locally, its seals are checked, and the proof is
            folded up to the header's state root.
            Example: ledgerctl proof alice --height 3
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "State key: an account ID, or a local key name.") var key: String
    @Option(help: "Block height to prove against (default: latest).") var height: UInt64?

    func run() async throws {
        let id = try options.resolve(key)
        let client = try options.client
        let answer = try await client.get("/api/v1/proofs/\(id.text)" + (height.map { "?height=\($0)" } ?? ""))
        let blockView = try await client.get("/api/v1/blocks/\(answer.uint("height"))")
        let header = try HeaderFromJSON.decode(blockView)
        guard header.hash.hex == blockView.string("hash") else { throw CLIError("the header the node sent does not hash to the block hash it claims") }
        var sealCount = 0
        for seal in blockView.list("seals") {
            guard let keyBytes = Hex.decode(seal.string("public_key")), let publicKey = try? PublicKey(bytes: keyBytes),
                let signatureBytes = Hex.decode(seal.string("signature")), let signature = try? Signature(bytes: signatureBytes),
                publicKey.verify(signature, for: header.sealingDigest)
            else { throw CLIError("a seal on block \(header.height) does not verify") }
            sealCount += 1
        }
        guard let proofBytes = Hex.decode(answer.string("proof")), let proof = try? StateProof(encoded: proofBytes), proof.key == id else {
            throw CLIError("the node sent a proof that does not decode or is for another key")
        }
        let outcome: StateProof.Outcome
        do { outcome = try proof.verify(root: header.stateRoot) } catch { throw CLIError("proof is invalid: \(error)") }
        var view: [String: Any] = ["id": id.text, "height": header.height, "state_root": header.stateRoot.hex, "seals_verified": sealCount,
                                   "proof_bytes": proofBytes.count, "verified": true]
        switch outcome {
        case .absent:
            guard answer["value"] is NSNull || answer["value"] == nil else { throw CLIError("the node sent a value but the proof says the key is absent") }
            view["outcome"] = "absent"
        case .present(let valueHash):
            guard let valueBytes = Hex.decode(answer.string("value")), SHA256.hash(valueBytes) == valueHash else {
                throw CLIError("the value the node sent does not match the proven value hash")
            }
            view["outcome"] = "present"
            view["value"] = answer["value_json"]
        }
        options.output(view) {
            let what = view.string("outcome") == "present" ? "holds \(JSONText.render(answer["value_json"] ?? [:], compact: true))" : "is absent"
            return "verified: \(id) \(what)\n  at block \(header.height), state root \(header.stateRoot)\n  header hash and \(sealCount) seal(s) checked locally; proof \(proofBytes.count) bytes, depth \(proof.depth)"
        }
    }
}

import Foundation
