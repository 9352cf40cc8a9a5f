import Consensus
import Foundation
import Ledger
import LedgerTestSupport
import Testing

/// The deterministic simulation (Tests/Support/ConsensusSimulation.swift) over many seeds. `make test`
/// runs the CI budget; `make sim SEEDS=N` more; `make sim SEED=S` replays one seed exactly.
@Suite struct ConsensusSimulationTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static var seeds: [UInt64] {
        if let one = environment["LEDGERD_SIM_SEED"].flatMap(UInt64.init) { return [one] }
        let count = environment["LEDGERD_SIM_SEEDS"].flatMap(Int.init) ?? 1_000
        let first = environment["LEDGERD_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<UInt64(count)).map { first + $0 }
    }

    /// The seeds in batches, so the test runner spreads them over the cores.
    static var batches: [[UInt64]] {
        let seeds = Self.seeds
        let size = max(1, (seeds.count + 7) / 8)
        return stride(from: 0, to: seeds.count, by: size).map { Array(seeds[$0..<min($0 + size, seeds.count)]) }
    }

    @Test(arguments: batches) func everySeedKeepsAgreementValidityLivenessAndEvidence(_ seeds: [UInt64]) {
        var failures: [String] = []
        var heights: UInt64 = 0
        var equivocations = 0
        var byzantineSeeds = 0
        var crashSeeds = 0
        for seed in seeds {
            let result = ConsensusSimulation.run(seed: seed)
            heights += result.heights
            equivocations += result.equivocationsSeen
            if !result.scenario.byzantine.isEmpty { byzantineSeeds += 1 }
            if !result.scenario.crashes.isEmpty { crashSeeds += 1 }
            if !result.violations.isEmpty {
                failures.append("seed \(seed) (\(result.scenario)): \(result.violations.joined(separator: "; ")) — replay with make sim SEED=\(seed)")
            }
        }
        print("simulation: seeds \(seeds.first ?? 0)…\(seeds.last ?? 0): \(seeds.count) seeds, \(heights) heights, \(byzantineSeeds) with Byzantine bookkeepers, \(crashSeeds) with crashes, \(equivocations) equivocations caught")
        #expect(failures.isEmpty, "\(failures.prefix(5).joined(separator: "\n"))")
        // The budget must exercise the faults, or it proves nothing.
        if seeds.count >= 100 {
            #expect(byzantineSeeds > seeds.count / 4)
            #expect(crashSeeds > 0)
            #expect(equivocations > 0)
        }
    }
}
