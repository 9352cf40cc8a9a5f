import Credit
import Foundation
import Ledger
import Storage

// `ledger-bench [--output BENCHMARKS.md] [--quick] [--only signatures|transfers|tree|store|credit|organizations|process|consensus|content|adversarial|p2p]`:
// the figures issues 2 to 5 ask for, all measured in this run. `--only` runs one section (for profiling).
let arguments = CommandLine.arguments
let outputPath = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] } ?? "BENCHMARKS.md"
let quick = arguments.contains("--quick")
let only = arguments.firstIndex(of: "--only").map { arguments[$0 + 1] }
let binaries = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().path
func wanted(_ section: String) -> Bool { only == nil || only == section }

var report = Report()
var generator = SeededGenerator(seed: 2026_11_21)
let bench = Benchmarks(quick: quick)

// Every section but the network one needs the verify rate as its reference.
let verifyRate = only?.hasPrefix("p2p") == true ? 1 : bench.signatures(&report)
// The tree runs before the transfer blocks are held in memory, so that it measures the tree alone.
if wanted("tree") { bench.tree(&report, &generator) }
var blocks: [(Block, Chain.Applied)] = []
var genesis: (state: LedgerState, block: Block)? = nil
if wanted("transfers") || wanted("store") {
    (genesis, blocks) = try bench.transfers(&report, verifyRate: verifyRate, &generator)
}
if wanted("store"), let genesis { try bench.store(&report, genesis: genesis, blocks: blocks) }
if wanted("credit") { try bench.credit(&report, &generator) }
if wanted("organizations") { try bench.organizations(&report, &generator) }
if wanted("process") { try bench.process(&report, binaries: binaries) }
if wanted("consensus") { try ConsensusBenchmarks.run(&report, binaries: binaries, quick: quick) }
if wanted("content") {
    try ContentBenchmarks.run(&report, binaries: binaries, quick: quick)
    ContentExchangeBenchmarks.run(&report, binaries: binaries, quick: quick)
    DatabaseBenchmarks.run(&report, binaries: binaries, quick: quick)
}
if wanted("adversarial") { AdversarialBenchmarks.run(&report, verifyRate: verifyRate, quick: quick) }
if wanted("p2p") || only == "p2p-stream" {
    for figure in try await NetworkBenchmarks.run(quick: quick, streamOnly: only == "p2p-stream") { report.add(figure.name, figure.value, figure.note, key: figure.key, figure.raw) }
}

let machineDescription = "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(formatted(Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)) GiB"
try report.write(to: outputPath, machine: machineDescription)
print("wrote \(outputPath)")
if !report.failures.isEmpty {
    print("\(report.failures.count) figure(s) could not be measured: \(report.failures.joined(separator: "; "))")
    exit(1)
}
