import ArgumentParser
import Foundation
import Ledger

/// Options for transactions that a second party co-signs (transfers, IOU hand-overs, contracts).
struct CounterpartyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the half-signed transaction here for the other party to complete with 'ledgerctl tx sign FILE' (always used when their key is not local).", valueName: "file"))
    var out: String?

    @Option(name: .customLong("counterparty-key"), help: ArgumentHelp("The other party's public key (hex), needed when its key is not local.", valueName: "hex"))
    var counterpartyKey: String?
}

extension Submitter {
    /// Signs as `first`; if the second party's key is local (and no --out is given) signs for it too
    /// and submits; otherwise writes a partial transaction for it to complete.
    func submitCosigned(type: String, body: CBOR, first: SecretKey, second: ID, counterparty: CounterpartyOptions, wait: Bool) async throws {
        let local = options.localKey(for: second)
        if counterparty.out == nil, let secondKey = local {
            let tx = try await submit(type: type, body: body, signers: [first, secondKey], wait: wait)
            options.output(tx) { Submitter.describe(tx) }
            return
        }
        let parsed = try counterparty.counterpartyKey.map { text -> PublicKey in
            guard let raw = Hex.decode(text), let key = try? PublicKey(bytes: raw) else { throw CLIError("--counterparty-key '\(text)' is not a 64-hex public key") }
            return key
        }
        guard let out = counterparty.out, let secondKey = local?.publicKey ?? parsed else {
            throw CLIError("the key of \(second) is not in \(options.directory.keysPath); pass --counterparty-key (their public key) and --out FILE, then have them run 'ledgerctl tx sign FILE'")
        }
        guard secondKey.id == second else { throw CLIError("--counterparty-key is not the public key of \(second)") }
        let template = try await transaction(type: type, body: body, signers: [first])
        let unsigned = Transaction(chain: template.chain, type: type, signers: [first.publicKey, secondKey], nonce: template.nonce,
                                   expiry: template.expiry, body: body)
        try PartialTransaction(transaction: unsigned, signatures: [first.sign(unsigned.signingDigest), nil]).write(to: out)
        options.output(["id": unsigned.id.hex, "file": out, "status": "needs_signature"]) {
            "wrote \(out); \(second) completes and submits it with: ledgerctl tx sign \(out) --as <their key>"
        }
    }

    /// Signs with the --as key alone and submits; also returns the nonce used (records named after it,
    /// such as IOUs and contracts, get their IDs from it).
    func submitReturningNonce(type: String, body: CBOR, wait: Bool) async throws -> ([String: Any], UInt64) {
        let key = try options.key()
        let tx = try await transaction(type: type, body: body, signers: [key])
        return (try await submit(SignedTransaction(transaction: tx, keys: [key]), wait: wait), tx.nonce)
    }

    /// Signs with the --as key alone, submits, prints.
    func submitAndPrint(type: String, body: CBOR, wait: WaitOption) async throws {
        let tx = try await submit(type: type, body: body, signers: [try options.key()], wait: !wait.noWait)
        options.output(tx) { Submitter.describe(tx) }
    }
}

/// Parses an amount option: bytes, or with a binary prefix.
func amountOption(_ text: String, _ name: String) throws -> UInt64 {
    guard let value = Units.parse(text), value > 0 else { throw CLIError("--\(name) '\(text)' is not a positive amount such as 1048576 or 10GiB") }
    return value
}
