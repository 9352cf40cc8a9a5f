import ArgumentParser
import Foundation
import Ledger

struct ProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Fetch a state proof for a key and verify it here: header hash, commit certificate, proof, value.",
        discussion: """
            The node is not trusted, not even about who the bookkeepers are: the header is rehashed locally,
            its commit certificate is checked against the bookkeepers of a genesis file you hold (the data directory's
            genesis.json unless --genesis names another) and must come from more than two thirds of them;
            or, with --trust HEIGHT:HASH, the header must be the one you name. Then the proof is folded up
            to the header's state root.
            Example: ledgerctl proof alice --height 3 --genesis ~/network/genesis.json
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "State key: an account ID, or a local key name.") var key: String
    @Option(help: "Block height to prove against (default: latest).") var height: UInt64?
    @Option(help: ArgumentHelp("The genesis file whose bookkeepers you trust (default: DIR/genesis.json).", valueName: "file")) var genesis: String?
    @Option(help: ArgumentHelp("Trust exactly this header instead: its height and hash (hex).", valueName: "height:hash")) var trust: String?

    /// What the header is checked against: a bookkeeper set the user holds, or a header the user names.
    enum Anchor {
        case bookkeepers(BookkeeperSet, genesis: BlockHeader)
        case header(height: UInt64, hash: String)
    }

    func anchor() throws -> Anchor {
        if let trust {
            guard genesis == nil else { throw CLIError("give --genesis or --trust, not both") }
            let parts = trust.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let height = UInt64(parts[0]), let hash = Hex.decode(parts[1]), hash.count == Digest.byteCount else {
                throw CLIError("--trust '\(trust)' is not HEIGHT:HASH with a 64-hex block hash")
            }
            return .header(height: height, hash: Hex.encode(hash))
        }
        let path = genesis ?? options.directory.genesisPath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no genesis file at \(path) to take the bookkeepers from; pass --genesis FILE or --trust HEIGHT:HASH")
        }
        do {
            let built = try Genesis.decode(json: data).build()
            guard let bookkeepers = built.state.bookkeepers else { throw CLIError("\(path) names no bookkeepers") }
            return .bookkeepers(bookkeepers, genesis: built.block.header)
        } catch let error as CLIError { throw error } catch { throw CLIError("\(path) is not a usable genesis file: \(error)") }
    }

    func run() async throws {
        let id = try options.resolve(key)
        let anchor = try anchor()
        let client = try options.client
        var provenHeight = height
        if case .header(let trusted, _) = anchor {
            guard height == nil || height == trusted else { throw CLIError("with --trust, the proof is at the trusted height \(trusted)") }
            provenHeight = trusted
        }
        let answer = try await client.get("/api/v1/proofs/\(id.text)" + (provenHeight.map { "?height=\($0)" } ?? ""))
        let blockView = try await client.get("/api/v1/blocks/\(answer.uint("height"))")
        let header = try HeaderFromJSON.decode(blockView)
        // A lying node could answer with an older, validly certified block (a balance before it was spent).
        if let provenHeight, header.height != provenHeight {
            throw CLIError("asked for a proof at height \(provenHeight), the node answered for height \(header.height)")
        }
        guard header.hash.hex == blockView.string("hash") else { throw CLIError("the header the node sent does not hash to the block hash it claims") }
        var precommitCount = 0
        switch anchor {
        case .header(let trusted, let hash):
            guard header.height == trusted, header.hash.hex == hash else {
                throw CLIError("the node's block \(header.height) is \(header.hash.hex), not the trusted \(hash)")
            }
        case .bookkeepers(let bookkeepers, let genesisHeader):
            guard header.chain.sameBytes(as: genesisHeader.chain) else {
                throw CLIError("the node keeps chain '\(header.chain)', the genesis file is for '\(genesisHeader.chain)'")
            }
            if header.height == 0 {
                guard header.hash == genesisHeader.hash else { throw CLIError("the node's genesis block is not the one the genesis file makes") }
            } else {
                guard header.bookkeepers == bookkeepers.hash else {
                    throw CLIError("block \(header.height) names another bookkeeper set than the genesis file's")
                }
                guard let certificate = try HeaderFromJSON.certificate(blockView["commit"], height: header.height) else {
                    throw CLIError("block \(header.height) has no commit certificate")
                }
                do { try certificate.verify(chain: header.chain, height: header.height, block: header.hash, bookkeepers: bookkeepers) } catch {
                    throw CLIError("block \(header.height) is not certified by the trusted bookkeepers: \(error.message)")
                }
                precommitCount = certificate.signers.count
            }
        }
        guard let proofBytes = Hex.decode(answer.string("proof")), let proof = try? StateProof(encoded: proofBytes), proof.key == id else {
            throw CLIError("the node sent a proof that does not decode or is for another key")
        }
        let outcome: StateProof.Outcome
        do { outcome = try proof.verify(root: header.stateRoot) } catch { throw CLIError("proof is invalid: \(error)") }
        var view: [String: Any] = ["id": id.text, "height": header.height, "state_root": header.stateRoot.hex, "precommits_verified": precommitCount,
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
            return "verified: \(id) \(what)\n  at block \(header.height), state root \(header.stateRoot)\n  header hash and \(precommitCount) precommit(s) checked locally; proof \(proofBytes.count) bytes, depth \(proof.depth)"
        }
    }
}

import Foundation
