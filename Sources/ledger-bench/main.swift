import Credit
import Foundation
import Ledger
import Storage

// `ledger-bench [--output BENCHMARKS.md] [--quick]`: the figures issue 2 asks for, all measured here.
let arguments = CommandLine.arguments
let outputPath = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] } ?? "BENCHMARKS.md"
let quick = arguments.contains("--quick")
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
var report = Report()
var generator = SeededGenerator(seed: 2026_11_21)

func key(_ n: Int) -> SecretKey { try! SecretKey(bytes: SHA256.hash(Array("bench key \(n)".utf8)).bytes) }

// MARK: - Signatures: the reference

let signCount = quick ? 2_000 : 20_000
let signer = key(0)
let messages = (0..<signCount).map { SHA256.hash(Array("message \($0)".utf8)) }
var signatures: [Signature] = []
signatures.reserveCapacity(signCount)
let signSeconds = seconds { for message in messages { signatures.append(signer.sign(message)) } }
let signRate = Double(signCount) / signSeconds
report.add("BIP-340 sign, one core", "\(formatted(signRate))/s", "\(signCount) signatures; DESIGN reference ≈ 42,000/s", key: "sign_per_second", signRate)
var verified = 0
let verifySeconds = seconds { for (message, signature) in zip(messages, signatures) where signer.publicKey.verify(signature, for: message) { verified += 1 } }
precondition(verified == signCount)
let verifyRate = Double(signCount) / verifySeconds
report.add("BIP-340 verify, one core", "\(formatted(verifyRate))/s", "the reference for the ratios below; DESIGN reference ≈ 24,000/s", key: "verify_per_second", verifyRate)

// MARK: - Signed transfers applied (verify + state transition + state tree)

let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
let accountCount = quick ? 1_000 : 10_000
let accounts = (0..<accountCount).map(key)
let genesis = Genesis.development(chainID: "bench", timeMillis: 0, bookkeeper: signer.publicKey, balances: accounts.map { ($0.publicKey.id, 1 << 40) })
let built = try genesis.build()
let transferCount = quick ? 4_000 : 20_000
var nonces = [UInt64](repeating: 0, count: accountCount)
let transfers: [SignedTransaction] = (0..<transferCount).map { _ in
    let from = Int.random(in: 0..<accountCount, using: &generator)
    var to = Int.random(in: 0..<accountCount, using: &generator)
    if to == from { to = (to + 1) % accountCount }
    let tx = Transaction(chain: "bench", type: TransferRule.type, signers: [accounts[from].publicKey, accounts[to].publicKey],
                         nonce: nonces[from], expiry: .max, body: TransferRule.body(to: accounts[to].publicKey.id, amount: 1))
    nonces[from] += 1
    return SignedTransaction(transaction: tx, keys: [accounts[from], accounts[to]])
}
let blockSize = 1_000
var state = built.state
var header = built.block.header
var blocks: [(Block, Chain.Applied)] = []
let applySeconds = seconds {
    for start in stride(from: 0, to: transferCount, by: blockSize) {
        let batch = Array(transfers[start..<min(start + blockSize, transferCount)])
        guard let proposal = Chain.propose(batch, after: header, state: state, machine: machine, timeMillis: (header.pulse + 1) * 1000,
                                           proposer: signer.publicKey.id, verifySignatures: true)
        else { fatalError("no transfer applied") }
        precondition(proposal.rejected.isEmpty, "bench transfers must all apply")
        state = proposal.applied.state
        header = proposal.header
        blocks.append((Block(header: proposal.header, transactions: proposal.accepted, seals: []), proposal.applied))
    }
    _ = state.rootHash
}
let transferRate = Double(transferCount) / applySeconds
report.add("Signed transfers applied, one core", "\(formatted(transferRate))/s",
           "\(transferCount) transfers among \(accountCount) accounts, blocks of \(blockSize); each carries 2 signatures (payer and payee)",
           key: "transfers_per_second", transferRate)
report.add("  ratio to verify rate (goal ≥ 0.5)", formatted(transferRate / verifyRate, decimals: 3),
           "a transfer needs two verifications, so 0.5 is the ceiling; per signature: \(formatted(2 * transferRate / verifyRate, decimals: 3))",
           key: "transfers_to_verify_ratio", transferRate / verifyRate)

// MARK: - State tree: batched updates in memory, proof size

let treeSize = quick ? 100_000 : 1_000_000
func randomID(_ generator: inout SeededGenerator) -> ID { ID(bytes: (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })! }
var keys = (0..<treeSize).map { _ in randomID(&generator) }
var tree = SparseMerkleTree()
let buildSeconds = seconds { tree = tree.updating(keys.map { ($0, SHA256.hash(Array($0.bytes.prefix(8)))) }) }
report.add("State tree: build \(formatted(Double(treeSize))) leaves", "\(formatted(Double(treeSize) / buildSeconds))/s", "one batch, in memory",
           key: "tree_build_leaves_per_second", Double(treeSize) / buildSeconds)
let batchSize = 10_000, batchCount = quick ? 5 : 20
var batches: [[SparseMerkleTree.Update]] = []
for _ in 0..<batchCount {
    var batch: [SparseMerkleTree.Update] = []
    for index in 0..<batchSize {
        // Half update existing leaves, half insert new ones.
        let id = index % 2 == 0 ? keys[Int.random(in: 0..<keys.count, using: &generator)] : randomID(&generator)
        batch.append((id, SHA256.hash([UInt8(index & 0xff)])))
    }
    batches.append(batch)
}
let updateSeconds = seconds { for batch in batches { tree = tree.updating(batch) } }
let updateRate = Double(batchSize * batchCount) / updateSeconds
report.add("State tree: leaf updates, batched, in memory (goal ≥ 200,000/s)", "\(formatted(updateRate))/s",
           "\(batchCount) batches of \(formatted(Double(batchSize))) (half updates, half inserts) into \(formatted(Double(treeSize))) leaves; IAVL's best published ≈ 61,000/s",
           key: "tree_updates_per_second", updateRate)
var proofBytes = 0, proofDepth = 0
let sampleCount = 1_000
for index in 0..<sampleCount {
    let proof = tree.proof(for: keys[index * (keys.count / sampleCount)])
    proofBytes += proof.encodedBytes
    proofDepth += proof.depth
}
let averageProof = Double(proofBytes) / Double(sampleCount), averageDepth = Double(proofDepth) / Double(sampleCount)
let leafCount = Double(tree.leaves().count)
// Each doubling of the accounts adds one level: one sibling (32 bytes behind a 2-byte CBOR head) and a bitmap bit.
let extraLevels = log2(30_000_000 / leafCount)
let extrapolated = averageProof + extraLevels * (34 + 1.0 / 8)
report.add("Proof size at \(formatted(leafCount)) accounts", "\(formatted(averageProof)) bytes",
           "mean of \(sampleCount) inclusion proofs, mean depth \(formatted(averageDepth, decimals: 1))", key: "proof_bytes_measured", averageProof)
report.add("Proof size extrapolated to 30,000,000 accounts (goal ≤ 1 KiB)", "\(formatted(extrapolated)) bytes",
           "+\(formatted(extraLevels, decimals: 1)) levels × 34 bytes (sibling and its CBOR head)", key: "proof_bytes_30m", extrapolated)
keys = []
tree = SparseMerkleTree()

// MARK: - Blocks appended to SQLite

let folder = NSTemporaryDirectory() + "ledger-bench-\(UUID().uuidString.prefix(8))"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let store = try LedgerStore(path: folder + "/ledger.sqlite", create: true)
try store.initialize(genesis: built.block, state: built.state)
let appendSeconds = try seconds { for (block, applied) in blocks { try store.append(block, applied: applied) } }
let blockRate = Double(blocks.count) / appendSeconds
report.add("Blocks appended to SQLite, \(blockSize) transactions each", "\(formatted(blockRate, decimals: 1))/s",
           "\(blocks.count) blocks, WAL, synchronous=FULL, zstd bodies, tree nodes and state values in the same transaction: \(formatted(blockRate * Double(blockSize))) tx/s",
           key: "blocks_appended_per_second", blockRate)
let databaseBytes = ((try? FileManager.default.attributesOfItem(atPath: folder + "/ledger.sqlite")[.size] as? Int) ?? 0)
    + ((try? FileManager.default.attributesOfItem(atPath: folder + "/ledger.sqlite-wal")[.size] as? Int) ?? 0)
report.add("  database size after them", "\(formatted(Double(databaseBytes) / 1_048_576, decimals: 1)) MiB", "", key: "database_bytes", databaseBytes)
blocks = []
try? FileManager.default.removeItem(atPath: folder)

// MARK: - ledgerd idle memory and binary sizes

func run(_ program: String, _ args: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = args
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

let ledgerd = binaries + "/ledgerd", ledgerctl = binaries + "/ledgerctl"
if FileManager.default.isExecutableFile(atPath: ledgerd) {
    let data = NSTemporaryDirectory() + "ledger-bench-node-\(UUID().uuidString.prefix(8))"
    let initialize = try run(ledgerd, ["init", "--data", data])
    initialize.waitUntilExit()
    let node = try run(ledgerd, ["run", "--data", data, "--http", "127.0.0.1:0"])
    Thread.sleep(forTimeInterval: 5)
    let status = (try? String(contentsOfFile: "/proc/\(node.processIdentifier)/status", encoding: .utf8)) ?? ""
    let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { line in
        line.split(separator: " ").compactMap { Int($0) }.first
    } ?? 0
    kill(node.processIdentifier, SIGTERM)
    node.waitUntilExit()
    try? FileManager.default.removeItem(atPath: data)
    report.add("ledgerd resident memory, idle (goal ≤ 50 MB)", "\(formatted(Double(rssKiB) * 1024 / 1_000_000, decimals: 1)) MB",
               "VmRSS 5 s after start, release build, empty development chain", key: "ledgerd_idle_rss_bytes", rssKiB * 1024)
    for binary in [ledgerd, ledgerctl] {
        let copy = NSTemporaryDirectory() + "stripped-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: binary, toPath: copy)
        let strip = try run("/usr/bin/strip", [copy])
        strip.waitUntilExit()
        let size = (try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int) ?? 0
        try? FileManager.default.removeItem(atPath: copy)
        let name = (binary as NSString).lastPathComponent
        report.add("\(name) stripped size", "\(formatted(Double(size) / 1_048_576, decimals: 1)) MiB", "release build, dynamically linked to the Swift runtime",
                   key: "\(name)_stripped_bytes", size)
    }
} else {
    print("note: \(ledgerd) not built; skipping memory and size figures (make bench builds it)")
}

let machineDescription = "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(formatted(Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)) GiB"
try report.write(to: outputPath, machine: machineDescription)
print("wrote \(outputPath)")
