import Foundation
import Logging
import ServiceLifecycle

/// Drives the pulse: every `pulseMillis` consensus may start a height (when transactions are pending)
/// and this node proposes when it is its turn. Stops at graceful shutdown, after the pulse in progress.
public struct PulseService: Service {
    let driver: ConsensusDriver
    let pulseMillis: UInt64
    let genesisMillis: UInt64
    let logger: Logger

    public init(driver: ConsensusDriver, pulseMillis: UInt64, genesisMillis: UInt64, logger: Logger) {
        self.driver = driver
        self.pulseMillis = pulseMillis
        self.genesisMillis = genesisMillis
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Wake at the start of the next pulse, by the same clock the block times use.
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let wait = pulseMillis - (now >= genesisMillis ? (now - genesisMillis) % pulseMillis : 0) + 2
            do { try await Task.sleep(for: .milliseconds(Int64(wait))) } catch { break }
            await driver.pulse()
        }
    }
}
