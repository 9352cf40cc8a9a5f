import ArgumentParser
import Foundation
import Ledger

struct ProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Fetch a state proof for a key and verify it here: header hash, commit certificate, proof, value.",
        discussion: """
            The node is not trusted, not even about who the bookkeepers are: the header is reached by the
            light client ('ledgerctl verify --light') from block 0 of a genesis file you hold (the data
            directory's genesis.json unless --genesis names another) or from a header you name with
            --trust HEIGHT:HASH, checking commit certificates and the bookkeeper sets the headers commit to.
            Then the proof is folded up to that header's state root.
            Example: ledgerctl proof alice --height 3 --genesis ~/network/genesis.json
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "State key: an account ID, or a local key name.") var key: String
    @Option(help: "Block height to prove against (default: latest).") var height: UInt64?
    @Option(help: ArgumentHelp("The genesis file whose bookkeepers you trust (default: DIR/genesis.json).", valueName: "file")) var genesis: String?
    @Option(help: ArgumentHelp("Trust exactly this header instead: its height and hash (hex).", valueName: "height:hash")) var trust: String?

    func run() async throws {
        let id = try options.resolve(key)
        let client = try options.client
        // The header comes from the light client: followed from the genesis file's block 0, or from the
        // named header, by certificates and the sets the headers commit to, never the node's word.
        let anchor = try LightAnchor.parse(genesis: genesis, trust: trust, directory: options.directory)
        var light = LightClient(client: client)
        let trusted = try await light.anchor(genesis: anchor.genesis, trust: anchor.trust, parameters: anchor.parameters)
        let answer = try await client.get("/api/v1/proofs/\(id.text)" + (height.map { "?height=\($0)" } ?? ""))
        // A lying node could answer with an older block (a balance before it was spent).
        if let height, answer.uint("height") != height {
            throw CLIError("asked for a proof at height \(height), the node answered for height \(answer.uint("height"))")
        }
        let header = try await light.verify(to: answer.uint("height"), from: trusted).header
        guard answer.string("block_hash") == header.hash.hex, answer.string("state_root") == header.stateRoot.hex else {
            throw CLIError("the proof is for another block than the verified block \(header.height)")
        }
        let headerCount = light.headersChecked
        guard let proofBytes = Hex.decode(answer.string("proof")), let proof = try? StateProof(encoded: proofBytes), proof.key == id else {
            throw CLIError("the node sent a proof that does not decode or is for another key")
        }
        let outcome: StateProof.Outcome
        do { outcome = try proof.verify(root: header.stateRoot) } catch { throw CLIError("proof is invalid: \(error)") }
        var view: [String: Any] = ["id": id.text, "height": header.height, "state_root": header.stateRoot.hex, "headers_verified": headerCount,
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
            return "verified: \(id) \(what)\n  at block \(header.height), state root \(header.stateRoot)\n  \(headerCount) header(s) and their certificates checked locally from block \(trusted.header.height); proof \(proofBytes.count) bytes, depth \(proof.depth)"
        }
    }
}

import Foundation
