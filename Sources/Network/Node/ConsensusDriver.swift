import Consensus
import Foundation
import Ledger
import Logging
import Storage

/// Runs this node's side of consensus: feeds the pure `ConsensusCore` from the network, the timers and
/// the pulse, and carries out what it says — the WAL write before every send, broadcasts, timers,
/// proposals from the mempool, commits into `LedgerNode`. A node keeping the books alone runs the same
/// path with a set of one: its own votes decide at once.
public actor ConsensusDriver {
    let node: LedgerNode
    let logger: Logger
    let clock: @Sendable () -> UInt64
    private var core: ConsensusCore
    private let wal: ConsensusWAL?
    private var broadcaster: (@Sendable (ConsensusMessage) async -> Void)?
    private var timers: [Tendermint.Timeout: Task<Void, Never>] = [:]
    private var heightAtLastPulse: UInt64 = 0
    private var stalledPulses = 0
    /// Set when the WAL or the store failed: this node then stops taking part (it must not vote on a state
    /// it could not keep, nor send what it could not log); it still follows by block sync after a restart.
    public private(set) var halted = false
    /// Test hook: the process exits right after this many WAL writes, before the send (LEDGERD_CRASH_AFTER_WAL_WRITES).
    private var crashAfterWrites: Int?
    /// What the WAL holds, with each record's height: trimming after a commit keeps the later heights'
    /// records without decoding them again (a proposal record holds its whole block).
    private var logged: [(height: UInt64, record: [UInt8])] = []

    public init(node: LedgerNode, config: ConsensusConfig, wal: ConsensusWAL?, clock: @escaping @Sendable () -> UInt64, logger: Logger) async throws {
        self.node = node
        self.logger = logger
        self.clock = clock
        self.wal = wal
        let tip = await node.tip
        var log: [ConsensusMessage] = []
        var logged: [(height: UInt64, record: [UInt8])] = []
        for record in try wal?.records() ?? [] {
            guard let message = try? ConsensusMessage.decodeUntrusted(record) else { continue }
            log.append(message)
            logged.append((message.height, record))
        }
        self.logged = logged
        self.core = ConsensusCore(tip: tip, machine: node.machine, key: node.key, config: config, log: log)
        if let count = ProcessInfo.processInfo.environment["LEDGERD_CRASH_AFTER_WAL_WRITES"].flatMap(Int.init) { crashAfterWrites = count }
        if !log.isEmpty { logger.info("consensus log replayed", metadata: ["messages": "\(log.count)", "height": "\(core.height)"]) }
    }

    /// Where messages go (the bookkeepers' streams).
    public func connect(broadcast: @escaping @Sendable (ConsensusMessage) async -> Void) {
        broadcaster = broadcast
    }


    public var height: UInt64 { core.height }
    public var round: UInt32 { core.tendermint.round }
    public var step: Tendermint.Step { core.tendermint.step }
    public var isBookkeeper: Bool { core.isBookkeeper }

    /// One pulse: start the next height when transactions are pending, propose when it is this node's
    /// turn, and re-send when nothing moved for two pulses. Returns the new tip's header when a block
    /// was committed during the pulse.
    @discardableResult
    public func pulse() async -> BlockHeader? {
        guard !halted else { return nil }
        let before = await node.latest.height
        await node.netIfDue()
        let pending = await node.pendingTransactions
        if !pending.isEmpty && !core.tendermint.started && core.isBookkeeper { await carryOut(core.start(nowMillis: clock())) }
        if core.needsValue { await propose() }
        let after = await node.latest.height
        if after == heightAtLastPulse && core.tendermint.started { stalledPulses += 1 } else { stalledPulses = 0 }
        heightAtLastPulse = after
        if stalledPulses >= 2 {
            stalledPulses = 0
            await carryOut(core.rebroadcast())
        }
        return after > before ? await node.latest : nil
    }

    /// What a peer's message showed: that it is ahead (sync blocks from it), or that it misbehaved (a
    /// forged signature, a sender outside the set, an altered block), with the reason.
    public struct Verdict: Sendable {
        public var ahead = false
        public var refused: String?
    }

    /// A message from a peer.
    @discardableResult
    public func receive(_ message: ConsensusMessage) async -> Verdict {
        guard !halted else { return Verdict() }
        await catchUp()
        // A proposal's transactions that the mempool admitted had their signatures verified then: asked
        // here, when the block comes, rather than told per transaction (a hop per transaction that a
        // proposal could overtake).
        if case .proposal(let proposal) = message, proposal.block.height == core.height {
            core.noteVerified(await node.verifiedKeys(among: proposal.block.transactions))
        }
        let effects = core.receive(message, nowMillis: clock())
        var verdict = Verdict()
        for case .refused(let why) in effects { verdict.refused = why }
        verdict.ahead = await carryOut(effects)
        return verdict
    }

    /// After blocks were synced: move consensus to the node's tip.
    public func catchUp() async {
        let tip = await node.tip
        guard tip.header.height >= core.height else { return }
        core.adopt(tip)
        cancelTimers()
    }

    private func propose() async {
        let pending = await node.pendingTransactions
        guard !pending.isEmpty else { return }
        // The mempool verified every signature when it admitted the transaction.
        await carryOut(core.provide(pending, nowMillis: clock(), verifySignatures: false))
    }

    /// Carries out effects in order; true when one said a peer is ahead.
    @discardableResult
    private func carryOut(_ effects: [ConsensusCore.Effect]) async -> Bool {
        var ahead = false
        for effect in effects where !halted {
            switch effect {
            case .persist(let message):
                do {
                    if let wal {
                        let record = message.encoded
                        try wal.append(record)
                        logged.append((message.height, record))
                    }
                } catch {
                    // Sending what could not be logged risks signing twice after a crash: stop here.
                    logger.critical("consensus log write failed; this node stops voting", metadata: ["error": "\(error)"])
                    halted = true
                    return ahead
                }
                if let left = crashAfterWrites {
                    if left <= 1 {
                        logger.critical("exiting after a consensus log write, before the send (LEDGERD_CRASH_AFTER_WAL_WRITES)")
                        exit(9)
                    }
                    crashAfterWrites = left - 1
                }
            case .broadcast(let message):
                await broadcaster?(message)
            case .schedule(let timeout, let after):
                schedule(timeout, afterMillis: after)
            case .needValue:
                await propose()
            case .commit(let block, let applied):
                await commit(block, applied: applied)
            case .rejected(let rejected):
                await node.drop(rejected)
            case .evidence(let equivocation):
                logger.warning("bookkeeper equivocated", metadata: ["voter": "\(equivocation.voter.id)", "height": "\(equivocation.first.height)",
                                                                   "round": "\(equivocation.first.round)", "type": "\(equivocation.first.kind.rawValue)"])
            case .peerAhead(let height):
                logger.debug("a peer is ahead", metadata: ["height": "\(height)"])
                ahead = true
            case .refused(let why):
                logger.info("consensus message refused", metadata: ["reason": "\(why)"])
            }
        }
        return ahead
    }

    private func commit(_ block: Block, applied: Chain.Applied) async {
        cancelTimers()
        do {
            try await node.commit(block, applied: applied)
        } catch {
            // The block is decided; a store that cannot take it is broken, and the node must not go on
            // voting on a state it could not keep.
            logger.critical("could not store a decided block; this node stops voting", metadata: ["height": "\(block.height)", "error": "\(error)"])
            halted = true
            return
        }
        logger.info("committed block", metadata: ["height": "\(block.height)", "round": "\(block.commit?.round ?? 0)",
                                                   "txs": "\(block.transactions.count)", "hash": "\(block.hash)"])
        // Trim what the decided height no longer needs, and only that: while the store was writing, this
        // actor may already have signed (and logged) messages for the next height.
        do {
            if let wal {
                logged.removeAll { $0.height <= block.height }
                try wal.rewrite(logged.map(\.record))
            }
        } catch { logger.error("could not trim the consensus log", metadata: ["error": "\(error)"]) }
    }

    private func schedule(_ timeout: Tendermint.Timeout, afterMillis: UInt64) {
        timers[timeout]?.cancel()
        timers[timeout] = Task { [weak self] in
            do { try await Task.sleep(for: .milliseconds(Int64(afterMillis))) } catch { return }
            await self?.fire(timeout)
        }
    }

    private func fire(_ timeout: Tendermint.Timeout) async {
        timers[timeout] = nil
        guard !halted else { return }
        await carryOut(core.timeout(timeout, nowMillis: clock()))
    }

    private func cancelTimers() {
        for task in timers.values { task.cancel() }
        timers = [:]
    }
}
