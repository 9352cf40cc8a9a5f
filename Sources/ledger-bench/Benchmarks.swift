import Credit
import Foundation
import Ledger
import Storage

/// One function per section of the report.
struct Benchmarks {
    let quick: Bool
    let blockSize = 1_000

    func key(_ n: Int) -> SecretKey { try! SecretKey(bytes: SHA256.hash(Array("bench key \(n)".utf8)).bytes) }

    /// BIP-340 sign and verify on one core: the reference for the other ratios.
    func signatures(_ report: inout Report) -> Double {
        let count = quick ? 2_000 : 20_000
        let signer = key(0)
        let messages = (0..<count).map { SHA256.hash(Array("message \($0)".utf8)) }
        var signatures: [Signature] = []
        signatures.reserveCapacity(count)
        let signSeconds = seconds { for message in messages { signatures.append(signer.sign(message)) } }
        report.add("BIP-340 sign, one core", "\(formatted(Double(count) / signSeconds))/s", "\(count) signatures; DESIGN reference ≈ 42,000/s",
                   key: "sign_per_second", Double(count) / signSeconds)
        var verified = 0
        let verifySeconds = seconds {
            for (message, signature) in zip(messages, signatures) where signer.publicKey.verify(signature, for: message) { verified += 1 }
        }
        precondition(verified == count)
        let rate = Double(count) / verifySeconds
        report.add("BIP-340 verify, one core", "\(formatted(rate))/s", "the reference for the ratios below; DESIGN reference ≈ 24,000/s",
                   key: "verify_per_second", rate)
        var block = [UInt8](repeating: 7, count: 64)
        let hashCount = quick ? 200_000 : 2_000_000
        let hashSeconds = seconds { for index in 0..<hashCount { block[0] = UInt8(truncatingIfNeeded: index); _ = SHA256.hash(block) } }
        report.add("SHA-256 of 64 bytes, one core", "\(formatted(Double(hashCount) / hashSeconds))/s", "DESIGN reference 4–6 million/s",
                   key: "sha256_64_per_second", Double(hashCount) / hashSeconds)
        return rate
    }

    /// Signed transfers through the state transition and the tree, in blocks, on one core.
    func transfers(_ report: inout Report, verifyRate: Double, _ generator: inout SeededGenerator) throws
        -> ((state: LedgerState, block: Block), [(Block, Chain.Applied)])
    {
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let accountCount = quick ? 1_000 : 10_000
        let accounts = (0..<accountCount).map(key)
        let document = Genesis.development(chainID: "bench", timeMillis: 0, bookkeeper: key(0).publicKey, balances: accounts.map { ($0.publicKey.id, 1 << 40) })
        let genesis = try document.build()
        let count = quick ? 4_000 : 20_000
        var nonces = [UInt64](repeating: 0, count: accountCount)
        var transfers: [SignedTransaction] = []
        for _ in 0..<count {
            let from = Int.random(in: 0..<accountCount, using: &generator)
            var to = Int.random(in: 0..<accountCount, using: &generator)
            if to == from { to = (to + 1) % accountCount }
            let tx = Transaction(chain: "bench", type: TransferRule.type, signers: [accounts[from].publicKey, accounts[to].publicKey],
                                 nonce: nonces[from], expiry: .max, body: TransferRule.body(to: accounts[to].publicKey.id, amount: 1))
            nonces[from] += 1
            transfers.append(SignedTransaction(transaction: tx, keys: [accounts[from], accounts[to]]))
        }
        var state = genesis.state
        var header = genesis.block.header
        var lastCommit: CommitCertificate? = nil
        var blocks: [(Block, Chain.Applied)] = []
        let elapsed = seconds {
            for start in stride(from: 0, to: count, by: blockSize) {
                let batch = Array(transfers[start..<min(start + blockSize, count)])
                guard let proposal = Chain.propose(batch, after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: (header.pulse + 1) * 1000,
                                                   proposer: key(0).publicKey.id, verifySignatures: true)
                else { fatalError("no transfer applied") }
                precondition(proposal.rejected.isEmpty, "bench transfers must all apply")
                state = proposal.applied.state
                header = proposal.block.header
                let certified = proposal.block.certified(by: [key(0)])
                lastCommit = certified.commit
                blocks.append((certified, proposal.applied))
            }
        }
        let rate = Double(count) / elapsed
        report.add("Signed transfers applied, one core", "\(formatted(rate))/s",
                   "\(count) transfers among \(accountCount) accounts, blocks of \(blockSize); each carries 2 signatures (payer and payee)",
                   key: "transfers_per_second", rate)
        report.add("  ratio to verify rate (goal ≥ 0.5)", formatted(rate / verifyRate, decimals: 3),
                   "two verifications per transfer make 0.5 the ceiling; per signature verified: \(formatted(2 * rate / verifyRate, decimals: 3))",
                   key: "transfers_to_verify_ratio", rate / verifyRate)
        // For comparison, a one-signature transaction through the same path: credit grants.
        let grants: [SignedTransaction] = (0..<min(count / 2, accountCount)).map { index in
            let grantor = accounts[index], grantee = accounts[(index + 1) % accountCount]
            let tx = Transaction(chain: "bench", type: CreditRules.grant, signers: [grantor.publicKey], nonce: nonces[index], expiry: .max,
                                 body: CreditRules.lineBody(to: grantee.publicKey.id, limit: 1 << 30, expiry: 1 << 40))
            return SignedTransaction(transaction: tx, keys: [grantor])
        }
        let grantSeconds = seconds {
            for start in stride(from: 0, to: grants.count, by: blockSize) {
                let batch = Array(grants[start..<min(start + blockSize, grants.count)])
                guard let proposal = Chain.propose(batch, after: header, lastCommit: lastCommit, state: state, machine: machine, timeMillis: (header.pulse + 1) * 1000,
                                                   proposer: key(0).publicKey.id, verifySignatures: true)
                else { fatalError("no grant applied") }
                precondition(proposal.rejected.isEmpty, "bench grants must all apply")
                state = proposal.applied.state
                header = proposal.block.header
                lastCommit = proposal.block.certified(by: [key(0)]).commit
            }
        }
        let grantRate = Double(grants.count) / grantSeconds
        report.add("  for comparison: one-signature transactions (credit grants) applied, one core", "\(formatted(grantRate))/s",
                   "ratio to verify rate \(formatted(grantRate / verifyRate, decimals: 3))", key: "grants_per_second", grantRate)
        return (genesis, blocks)
    }

    /// Batched leaf updates into a large tree in memory, and proof sizes.
    func tree(_ report: inout Report, _ generator: inout SeededGenerator) {
        func randomID() -> ID { ID(bytes: generator.bytes(20))! }
        let size = quick ? 100_000 : 1_000_000
        let keys = (0..<size).map { _ in randomID() }
        var tree = SparseMerkleTree()
        let buildSeconds = seconds { tree = tree.updating(keys.map { ($0, SHA256.hash(Array($0.bytes.prefix(8)))) }) }
        report.add("State tree: build \(formatted(Double(size))) leaves", "\(formatted(Double(size) / buildSeconds))/s", "one batch, in memory",
                   key: "tree_build_leaves_per_second", Double(size) / buildSeconds)
        let batchSize = 10_000, batchCount = quick ? 5 : 20
        var batches: [[SparseMerkleTree.Update]] = []
        for _ in 0..<batchCount {
            var batch: [SparseMerkleTree.Update] = []
            for index in 0..<batchSize {
                // Half update existing leaves, half insert new ones.
                let id = index % 2 == 0 ? keys[Int.random(in: 0..<keys.count, using: &generator)] : randomID()
                batch.append((id, SHA256.hash([UInt8(index & 0xff)])))
            }
            batches.append(batch)
        }
        // The same batches from the same starting tree, on both cores and then on one; each run's
        // result is dropped before the next starts, so neither pays for the other's memory.
        let start = tree
        let updateSeconds = seconds { for batch in batches { tree = tree.updating(batch) } }
        let parallelRoot = tree.rootHash
        tree = start
        let singleSeconds = seconds { for batch in batches { tree = tree.updating(batch, parallel: false) } }
        precondition(parallelRoot == tree.rootHash, "parallel and sequential updates must agree")
        let rate = Double(batchSize * batchCount) / updateSeconds, singleRate = Double(batchSize * batchCount) / singleSeconds
        report.add("State tree: leaf updates, batched, in memory (goal ≥ 200,000/s)", "\(formatted(rate))/s",
                   "both cores (the root's halves in parallel); \(batchCount) batches of \(formatted(Double(batchSize))) (half updates, half inserts) into \(formatted(Double(size))) leaves; IAVL's best published ≈ 61,000/s",
                   key: "tree_updates_per_second", rate)
        report.add("  the same on one core", "\(formatted(singleRate))/s", "identical resulting root", key: "tree_updates_per_second_one_core", singleRate)
        var proofBytes = 0, proofDepth = 0
        let sampleCount = 1_000
        for index in 0..<sampleCount {
            let proof = tree.proof(for: keys[index * (keys.count / sampleCount)])
            proofBytes += proof.encodedBytes
            proofDepth += proof.depth
        }
        let averageProof = Double(proofBytes) / Double(sampleCount), averageDepth = Double(proofDepth) / Double(sampleCount)
        let leafCount = Double(size + batchCount * batchSize / 2)
        // Each doubling of the accounts adds one level: a sibling (32 bytes behind a 2-byte CBOR head) and a bitmap bit.
        let extraLevels = log2(30_000_000 / leafCount)
        let extrapolated = averageProof + extraLevels * (34 + 1.0 / 8)
        report.add("Proof size at \(formatted(leafCount)) accounts", "\(formatted(averageProof)) bytes",
                   "mean of \(sampleCount) inclusion proofs, mean depth \(formatted(averageDepth, decimals: 1))", key: "proof_bytes_measured", averageProof)
        report.add("Proof size extrapolated to 30,000,000 accounts (goal ≤ 1 KiB)", "\(formatted(extrapolated)) bytes",
                   "+\(formatted(extraLevels, decimals: 1)) levels × 34 bytes (a sibling and its CBOR head)", key: "proof_bytes_30m", extrapolated)
    }

    /// Appending the transfer blocks to a real SQLite store.
    func store(_ report: inout Report, genesis: (state: LedgerState, block: Block), blocks: [(Block, Chain.Applied)]) throws {
        let folder = NSTemporaryDirectory() + "ledger-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try LedgerStore(path: folder + "/ledger.sqlite", create: true)
        try store.initialize(genesis: genesis.block, state: genesis.state)
        let elapsed = try seconds { for (block, applied) in blocks { try store.append(block, applied: applied) } }
        let rate = Double(blocks.count) / elapsed
        report.add("Blocks appended to SQLite, \(blockSize) transactions each", "\(formatted(rate, decimals: 1))/s",
                   "\(blocks.count) blocks, WAL, synchronous=FULL, zstd bodies, tree nodes, state values and indexes in the same transaction: \(formatted(rate * Double(blockSize))) tx/s",
                   key: "blocks_appended_per_second", rate)
    }

    /// Idle memory of a real `ledgerd`, and the stripped sizes of both binaries.
    func process(_ report: inout Report, binaries: String) throws {
        let ledgerd = binaries + "/ledgerd", ledgerctl = binaries + "/ledgerctl"
        let memoryFigure = "ledgerd resident memory, idle (goal ≤ 50 MB)"
        guard FileManager.default.isExecutableFile(atPath: ledgerd), FileManager.default.isExecutableFile(atPath: ledgerctl) else {
            report.fail(memoryFigure, "\(ledgerd) or ledgerctl is not built (make bench builds them)", key: "ledgerd_idle_rss_bytes")
            return
        }
        let data = NSTemporaryDirectory() + "ledger-bench-node-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        try launch(ledgerd, ["init", "--data", data]).waitUntilExit()
        // Free ports for both listeners: a taken default port would end the node before it is measured.
        let node = try launch(ledgerd, ["run", "--data", data, "--http", "127.0.0.1:0", "--p2p", "127.0.0.1:0"])
        Thread.sleep(forTimeInterval: 5)
        let status = (try? String(contentsOfFile: "/proc/\(node.processIdentifier)/status", encoding: .utf8)) ?? ""
        let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { $0.split(separator: " ").compactMap { Int($0) }.first }
        let running = node.isRunning
        if running { kill(node.processIdentifier, SIGTERM) }
        node.waitUntilExit()
        if running, let rssKiB, rssKiB > 0 {
            report.add(memoryFigure, "\(formatted(Double(rssKiB) * 1024 / 1_000_000, decimals: 1)) MB",
                       "VmRSS 5 s after start, release build, empty development chain", key: "ledgerd_idle_rss_bytes", rssKiB * 1024)
        } else {
            report.fail(memoryFigure, running ? "no VmRSS in /proc for the node" : "the ledgerd it started exited (status \(node.terminationStatus)) before it was measured",
                        key: "ledgerd_idle_rss_bytes")
        }
        for binary in [ledgerd, ledgerctl] {
            let copy = NSTemporaryDirectory() + "stripped-\(UUID().uuidString.prefix(8))"
            try FileManager.default.copyItem(atPath: binary, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try launch("/usr/bin/strip", [copy]).waitUntilExit()
            let size = (try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int) ?? 0
            let name = (binary as NSString).lastPathComponent
            report.add("\(name) stripped size", "\(formatted(Double(size) / 1_048_576, decimals: 1)) MiB",
                       "release build, dynamically linked to the Swift runtime", key: "\(name)_stripped_bytes", size)
        }
    }

    private func launch(_ program: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
