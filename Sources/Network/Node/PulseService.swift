import Logging
import ServiceLifecycle

/// Drives the pulse: every `pulseMillis` the node seals a block if transactions are pending.
/// Stops at graceful shutdown, after the pulse in progress (so a block is never half-written).
public struct PulseService: Service {
    let node: LedgerNode
    let pulseMillis: UInt64
    let logger: Logger

    public init(node: LedgerNode, pulseMillis: UInt64, logger: Logger) {
        self.node = node
        self.pulseMillis = pulseMillis
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(Int64(pulseMillis))) } catch { break }
            do { try await node.pulse() } catch {
                logger.error("pulse failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
