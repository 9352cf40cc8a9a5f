import Foundation
import Testing

/// Storage contracts kept by a real ledgerd (specs/credit.md §Storage contracts in practice): the content
/// of a contract the node stores for is pinned by the node itself; a challenge is answered within a round
/// from the blocks in its store; once the operator deletes the content (unpin, repo gc) the next challenge
/// goes unanswered, and the claim takes the penalty from the node's deposit.
@Suite(.serialized) struct StorageKeeperTests {
    static func contract(_ node: NodeProcess, _ id: String) throws -> [String: Any] { try node.ctlJSON(["contract", "show", id]) }

    // The challenges are sent with --no-wait and the contract is polled: under CI's parallel load a block
    // can take longer than ledgerctl's own 20 s wait for inclusion, which once failed this test.
    @Test
    func theNodePinsItsContractsContentAnswersChallengesAndLosesItsDepositOnceTheContentIsGone() async throws {
        let node = try NodeProcess(name: "storage-keeper")
        let file = Paths.temporaryFolder("storage-keeper") + "/kept.bin"
        var generator = SystemRandomNumberGenerator()
        try Data((0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))
        let cid = try node.ctl(["ipfs", "add", "-Q", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        // Held but not pinned: the contract is what makes the node keep it.
        #expect(try node.ctl(["ipfs", "pin", "rm", cid]).status == 0)
        try node.start()
        defer { node.stop() }
        #expect(try node.ctl(["key", "new", "alice"]).status == 0)
        #expect(try node.ctl(["transfer", "--to", "alice", "--amount", "1GiB"]).status == 0)
        let provider = try node.key("node").publicKey.id.text
        let created = try node.ctl(["--as", "alice", "contract", "storage", "create", "--provider", provider, "--file", file, "--cid", cid,
                                    "--period", "8", "--periods", "20", "--deposit", "20KiB", "--price-per-gib-day", "1GiB"])
        #expect(created.status == 0, "\(created.error)")
        let list = try node.ctlJSON(["contract", "list", "--party", "alice"])["contracts"] as? [[String: Any]] ?? []
        let id = try #require(list.first?["id"] as? String)
        try await P2PNetworkTests.waitUntil("the node pins the contract's content") {
            try node.ctl(["ipfs", "pin", "ls"]).output.contains(cid)
        }

        // A challenge: answered by the node within a round, from its store.
        let first = try node.ctl(["--as", "alice", "contract", "storage", "challenge", id, "--no-wait"])
        #expect(first.status == 0, "\(first.error)")
        try await P2PNetworkTests.waitUntil("the node answers the challenge", seconds: 90) {
            (try Self.contract(node, id)["challenge"] as? [String: Any])?["answered"] as? Bool == true
        }
        #expect(node.log().contains("answered a storage challenge"))

        // The operator deletes the content; the next period's challenge goes unanswered.
        #expect(try node.ctl(["ipfs", "pin", "rm", cid]).status == 0)
        #expect(try node.ctl(["ipfs", "repo", "gc"]).status == 0)
        // The period after the one the first challenge fell in (on a loaded machine it may not be period 0).
        let firstPeriod = ((try Self.contract(node, id)["challenge"] as? [String: Any])?["period"] as? NSNumber)?.intValue ?? 0
        try await P2PNetworkTests.waitUntil("the next period", seconds: 60) {
            (try Self.contract(node, id)["current_period"] as? NSNumber)?.intValue ?? 0 > firstPeriod
        }
        let challenged = try node.ctl(["--as", "alice", "contract", "storage", "challenge", id, "--no-wait"])
        #expect(challenged.status == 0, "\(challenged.error)")
        try await P2PNetworkTests.waitUntil("the challenge's deadline passes", seconds: 90) {
            let challenge = try Self.contract(node, id)["challenge"] as? [String: Any] ?? [:]
            return (challenge["period"] as? NSNumber)?.intValue ?? 0 > firstPeriod
                && challenge["open"] as? Bool == false && challenge["answered"] as? Bool == false
        }
        #expect(node.log().contains("cannot answer a storage challenge"))
        // The claim settles the missed period: the price and a 20th of the deposit go back to the payer.
        try await P2PNetworkTests.waitUntil("the missed period is settled", seconds: 30) {
            _ = try node.ctl(["--as", "alice", "contract", "storage", "claim", id])
            return (try Self.contract(node, id)["missed"] as? NSNumber)?.intValue == 1
        }
        #expect((try Self.contract(node, id)["deposit"] as? NSNumber)?.intValue == 20 * 1024 - 1024)
    }
}
