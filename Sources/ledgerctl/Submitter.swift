import ArgumentParser
import Foundation
import Ledger

/// Builds, signs, submits a transaction, and by default waits until a block includes it.
struct Submitter {
    /// How long a transaction stays valid: an hour of pulses.
    static let expiryPulses: UInt64 = 3600
    static let waitSecondsMax = 20.0

    let options: GlobalOptions

    func transaction(type: String, body: CBOR, signers: [SecretKey]) async throws -> Transaction {
        let client = try options.client
        let status = try await client.get("/api/v1/status")
        let origin = signers[0].publicKey.id
        let account = try await client.get("/api/v1/accounts/\(origin.text)")
        return Transaction(
            chain: status.string("chain"), type: type, signers: signers.map(\.publicKey), nonce: account.uint("next_nonce"),
            expiry: status.uint("pulse") + Submitter.expiryPulses, body: body)
    }

    /// Signs with `signers` (origin first), submits, and returns the transaction as the node reports it.
    func submit(type: String, body: CBOR, signers: [SecretKey], wait: Bool = true) async throws -> [String: Any] {
        let tx = try await transaction(type: type, body: body, signers: signers)
        return try await submit(SignedTransaction(transaction: tx, keys: signers), wait: wait)
    }

    func submit(_ signed: SignedTransaction, wait: Bool = true) async throws -> [String: Any] {
        let client = try options.client
        let answer: [String: Any]
        do { answer = try await client.post("/api/v1/admin/transactions", ["tx": Hex.encode(signed.encoded)], admin: true) } catch let error as NodeClient.APIFailure {
            throw CLIError("the node rejected the transaction: \(error)")
        }
        let id = answer.string("id")
        guard wait else { return ["id": id, "status": "pending", "type": signed.transaction.type] }
        let deadline = Date().addingTimeInterval(Submitter.waitSecondsMax)
        while Date() < deadline {
            if let included = try await client.find("/api/v1/transactions/\(id)") { return included }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("transaction \(id) is still pending after \(Int(Submitter.waitSecondsMax)) s; check with 'ledgerctl tx show \(id)'")
    }

    static func describe(_ tx: [String: Any]) -> String {
        if let height = tx["height"] { return "\(tx.string("type")) \(tx.string("id")) included in block \(height)" }
        return "\(tx.string("type")) \(tx.string("id")) submitted (pending)"
    }
}

/// `--no-wait` for every command that submits.
struct WaitOption: ParsableArguments {
    @Flag(name: .customLong("no-wait"), help: "Return once the node accepts the transaction, without waiting for a block.")
    var noWait = false
}
