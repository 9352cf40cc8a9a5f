import Foundation
import Testing
import LedgerNetwork
import NetworkTestSupport

/// Issue 5's bar for the DHT: 1,000 nodes in one process, 20 % of them gone without notice; lookups
/// must find their target in at least 99 % of cases, in about log2(N) hops.
@Suite struct DHTSimulationTests {
    @Test func lookupsSucceedUnderChurnInLogarithmicHops() async {
        let simulation = DHTSimulation()
        await simulation.build(count: 1000, seed: 5)
        simulation.churn(share: 0.2, seed: 9)
        let outcome = await simulation.measure(lookups: 500, seed: 11)
        let log2N = log2(1000.0)
        #expect(outcome.successRate >= 0.99, "lookups found their target in \(outcome.successRate * 100) % of cases")
        #expect(outcome.meanHops <= log2N, "mean hops \(outcome.meanHops) above log2(N) = \(log2N)")
        #expect(outcome.maxHops <= Int(log2N.rounded(.up)) + 2, "longest lookup took \(outcome.maxHops) hops")
    }
}
