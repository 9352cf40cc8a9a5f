import Foundation
import Consensus
import Credit
import Ledger

/// Deterministic simulation of N bookkeepers running the real consensus core and ledger rules on a
/// simulated network and clock, from one seed: drops, delays, duplicates and reordering before a global
/// stabilization time (GST), a partition that heals at GST, crash and restart with the write-ahead log
/// (even between the write and the send), clock skew, and up to f Byzantine bookkeepers. Checked at
/// every commit: agreement and validity; at the end: liveness after GST and that every equivocation an
/// honest node saw reached every honest node as evidence.
public struct ConsensusSimulation {
    public enum Behavior: String, CaseIterable, Sendable {
        /// Signs two different votes for each slot, one to each half of the network.
        case equivocate
        /// Proposes blocks whose state root is wrong.
        case invalidProposals
        /// Proposes invalid blocks and votes for them, or for blocks no one has.
        case voteInvalid
        /// Sends random or truncated bytes instead of its messages.
        case garbage
        /// Says nothing.
        case silent
        /// Tries to split the honest nodes: its votes for a block go to one honest node only (nil to the
        /// rest), and as proposer it always proposes a fresh block, never the one others may be locked on.
        case split
    }

    public struct Scenario: Sendable, CustomStringConvertible {
        public var nodes: Int
        public var byzantine: [Int: Behavior]
        public var gstMillis: UInt64
        public var dropPercent: Int
        public var duplicatePercent: Int
        public var delayBeforeGSTMillisMax: UInt64
        public var delayAfterGSTMillisMax: UInt64
        public var partition: Set<Int>?
        /// Honest nodes that crash before GST (some between a WAL write and its send) and restart by GST.
        public var crashes: [(node: Int, atMillis: UInt64, restartMillis: UInt64)]
        public var skewsMillis: [Int64]
        public var heights: UInt64

        public static func random(using random: inout SeededGenerator) -> Scenario {
            let nodes = [4, 4, 4, 5, 7].randomElement(using: &random)!
            let f = (nodes - 1) / 3
            var byzantine: [Int: Behavior] = [:]
            for index in (0..<nodes).shuffled(using: &random).prefix(Int.random(in: 0...f, using: &random)) {
                byzantine[index] = Behavior.allCases.randomElement(using: &random)!
            }
            let gst = UInt64.random(in: 0...12_000, using: &random)
            var partition: Set<Int>?
            if Bool.random(using: &random) { partition = Set((0..<nodes).shuffled(using: &random).prefix(Int.random(in: 1...(nodes / 2), using: &random))) }
            let honest = (0..<nodes).filter { byzantine[$0] == nil }
            var crashes: [(Int, UInt64, UInt64)] = []
            if gst > 2_000, Int.random(in: 0..<3, using: &random) == 0, let node = honest.randomElement(using: &random) {
                let at = UInt64.random(in: 500...(gst - 1_000), using: &random)
                crashes.append((node, at, UInt64.random(in: (at + 100)...gst, using: &random)))
            }
            return Scenario(
                nodes: nodes, byzantine: byzantine, gstMillis: gst, dropPercent: Int.random(in: 0...30, using: &random),
                duplicatePercent: Int.random(in: 0...10, using: &random), delayBeforeGSTMillisMax: UInt64.random(in: 1...3_000, using: &random),
                delayAfterGSTMillisMax: UInt64.random(in: 1...200, using: &random), partition: partition, crashes: crashes,
                skewsMillis: (0..<nodes).map { _ in Int64.random(in: -200...200, using: &random) }, heights: 4)
        }

        public var description: String {
            let byz = byzantine.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.rawValue)" }.joined(separator: ",")
            return "n=\(nodes) byzantine=[\(byz)] gst=\(gstMillis)ms drop=\(dropPercent)% dup=\(duplicatePercent)% delay<=\(delayBeforeGSTMillisMax)/\(delayAfterGSTMillisMax)ms partition=\(partition.map { "\($0.sorted())" } ?? "none") crashes=\(crashes.map { "\($0.node)@\($0.atMillis)-\($0.restartMillis)" })"
        }
    }

    public struct Result: Sendable {
        public var seed: UInt64
        public var scenario: Scenario
        public var violations: [String]
        /// Heights every honest node reached.
        public var heights: UInt64
        public var steps: Int
        public var simulatedMillis: UInt64
        public var maxRoundAfterGST: UInt32
        public var equivocationsSeen: Int
        public var refusedMessages: Int
    }

    /// How long after GST every honest node must have reached the target height.
    public static let livenessBoundMillis: UInt64 = 60_000

    public static func run(seed: UInt64, scenario given: Scenario? = nil, configure: (inout ConsensusConfig) -> Void = { _ in }) -> Result {
        var random = SeededGenerator(seed: seed)
        let scenario = given ?? Scenario.random(using: &random)
        var config = ConsensusConfig()
        configure(&config)
        var world = SimulatedWorld(seed: seed, scenario: scenario, config: config, random: random)
        world.run()
        return world.result
    }
}

/// One bookkeeper in the simulation: what survives a crash (its blocks and WAL) and what does not.
struct SimulatedNode {
    let index: Int
    let key: SecretKey
    let behavior: ConsensusSimulation.Behavior?
    var core: ConsensusCore?
    var tip: ChainTip
    var chain: [Digest] = []
    var wal: [ConsensusMessage] = []
    var mempool: [SignedTransaction] = []
    var epoch = 0
    var heightAtLastTick: UInt64 = 0
    var stalledTicks = 0
}

struct SimulatedWorld {
    enum Payload {
        case message(ConsensusMessage)
        case bytes([UInt8])
    }

    enum Event {
        /// Honest messages travel as values (their encoding is checked by the spec vectors); what a
        /// Byzantine node sends as garbage travels as bytes and is decoded as a peer's would be.
        case deliver(to: Int, from: Int, Payload)
        case timer(node: Int, epoch: Int, Tendermint.Timeout)
        case tick(node: Int)
        case crash(node: Int)
        case restart(node: Int)
        case submit
        case gossip(node: Int, SignedTransaction)
        case sync(to: Int, from: Int)
    }

    static let genesisMillis: UInt64 = 1_800_000_000_000
    static let evidenceSettleMillis: UInt64 = 5_000
    /// LEDGERD_SIM_TRACE=K prints what node K receives and does (for replaying one seed).
    let trace = ProcessInfo.processInfo.environment["LEDGERD_SIM_TRACE"].flatMap(Int.init)

    static func describe(_ message: ConsensusMessage) -> String {
        switch message {
        case .proposal(let p): "proposal h\(p.height) r\(p.round) vr\(p.validRound.map(String.init) ?? "-") \(p.block.hash.hex.prefix(6)) by \(p.proposer.hex.prefix(4))"
        case .vote(let v): "\(v.kind.rawValue) h\(v.height) r\(v.round) \(v.block.map { String($0.hex.prefix(6)) } ?? "nil") by \(v.voter.hex.prefix(4))"
        case .evidence(let e): "evidence \(e.voter.hex.prefix(4))"
        }
    }

    static func describe(_ effect: ConsensusCore.Effect) -> String {
        switch effect {
        case .persist: "persist"
        case .broadcast(let m): "send(\(describe(m)))"
        case .schedule(let t, let after): "timer(\(t.kind.rawValue) r\(t.round) +\(after))"
        case .needValue: "needValue"
        case .commit(let b, _): "COMMIT h\(b.height) r\(b.commit?.round ?? 0)"
        case .rejected: "rejected"
        case .evidence: "evidence"
        case .peerAhead(let h): "ahead(\(h))"
        case .refused(let why): "refused(\(why))"
        }
    }
    let seed: UInt64
    let scenario: ConsensusSimulation.Scenario
    let config: ConsensusConfig
    let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
    var random: SeededGenerator
    var queue = SimulationEventQueue<Event>()
    var now: UInt64 = 0
    var nodes: [SimulatedNode] = []
    var blocksByHash: [Digest: (Block, ChainTip)] = [:]
    var decided: [UInt64: Digest] = [:]
    var decidedRound: [UInt64: UInt32] = [:]
    var violations: [String] = []
    var clients: [SecretKey] = []
    var nonces: [Int] = []
    var submitted = 0
    var steps = 0
    var crashPending: Set<Int> = []
    var refused = 0
    /// Equivocations honest nodes detected, with when they first did.
    var seenEquivocations: [ConsensusCore.EvidenceKey: UInt64] = [:]
    var genesisHeader: BlockHeader

    init(seed: UInt64, scenario: ConsensusSimulation.Scenario, config: ConsensusConfig, random: SeededGenerator) {
        self.seed = seed
        self.scenario = scenario
        self.config = config
        self.random = random
        let keys = (0..<scenario.nodes).map { testKey(500 + $0) }
        clients = (0..<6).map { testKey(600 + $0) }
        nonces = clients.map { _ in 0 }
        var genesis = Genesis.development(chainID: "ledgerd-sim", timeMillis: Self.genesisMillis, bookkeeper: keys[0].publicKey,
                                          balances: clients.map { ($0.publicKey.id, 1_000_000) })
        genesis.bookkeepers = keys.map(\.publicKey.hex)
        genesis.parameters.miningRewardPerBlock = 1_000
        let (state, block) = try! genesis.build()
        genesisHeader = block.header
        let tip = ChainTip(header: block.header, state: state, commit: nil)
        for (index, key) in keys.enumerated() {
            var node = SimulatedNode(index: index, key: key, behavior: scenario.byzantine[index], tip: tip)
            node.core = ConsensusCore(tip: tip, machine: machine, key: key, config: config)
            nodes.append(node)
        }
    }

    var honest: [Int] { nodes.indices.filter { nodes[$0].behavior == nil } }

    func localClock(_ node: Int) -> UInt64 { UInt64(Int64(Self.genesisMillis + now) + scenario.skewsMillis[node]) }

    mutating func run() {
        for node in nodes.indices {
            queue.add(.tick(node: node), at: UInt64(max(1, 1_000 - scenario.skewsMillis[node] + 3)))
        }
        for crash in scenario.crashes {
            queue.add(.crash(node: crash.node), at: crash.atMillis)
            queue.add(.restart(node: crash.node), at: crash.restartMillis)
        }
        queue.add(.submit, at: 100)
        let deadline = scenario.gstMillis + ConsensusSimulation.livenessBoundMillis
        while let (time, event) = queue.next() {
            now = time
            steps += 1
            if now > deadline { break }
            handle(event)
            if violations.count > 0 { return }
            if now > scenario.gstMillis, honest.allSatisfy({ nodes[$0].tip.header.height >= scenario.heights }), unpunished().isEmpty { break }
        }
        for index in honest where nodes[index].tip.header.height < scenario.heights {
            let core = nodes[index].core
            violations.append("liveness: node \(index) reached height \(nodes[index].tip.header.height) of \(scenario.heights) by \(deadline) ms (GST \(scenario.gstMillis) ms; round \(core?.tendermint.round ?? 0), step \(core.map { "\($0.tendermint.step)" } ?? "crashed"), started \(core?.tendermint.started ?? false), locked round \(core?.tendermint.lockedRound ?? -1), mempool \(nodes[index].mempool.count))")
        }
        // Every equivocation an honest node detected ends in committed evidence: its bookkeeper is
        // excluded from the set in every honest node's chain.
        let left = unpunished()
        if !left.isEmpty {
            violations.append("evidence: \(left.count) equivocating bookkeeper(s) not excluded by \(now) ms: \(left.map { String($0.hex.prefix(8)) })")
        }
    }

    /// Bookkeepers an honest node caught equivocating whom some honest chain has not excluded yet.
    func unpunished() -> Set<PublicKey> {
        let caught = Set(seenEquivocations.keys.map(\.voter))
        return caught.filter { voter in honest.contains { nodes[$0].tip.state.bookkeepers?.keys.contains(voter) ?? false } }
    }

    var result: ConsensusSimulation.Result {
        let reached = honest.map { nodes[$0].tip.header.height }.min() ?? 0
        let afterGST = decidedRound.filter { $0.key > 0 }.values.max() ?? 0
        return ConsensusSimulation.Result(seed: seed, scenario: scenario, violations: violations, heights: reached, steps: steps,
                                          simulatedMillis: now, maxRoundAfterGST: afterGST, equivocationsSeen: seenEquivocations.count,
                                          refusedMessages: refused)
    }

    // MARK: - Events

    mutating func handle(_ event: Event) {
        switch event {
        case .tick(let index):
            queue.add(.tick(node: index), at: now + 1_000)
            tick(index)
        case .deliver(let to, let from, let payload):
            guard nodes[to].core != nil else { return }
            let message: ConsensusMessage
            switch payload {
            case .message(let sent): message = sent
            case .bytes(let bytes):
                guard let decoded = try? ConsensusMessage.decodeUntrusted(bytes) else {
                    refused += 1
                    return
                }
                message = decoded
            }
            let effects = nodes[to].core!.receive(message, nowMillis: localClock(to))
            if trace == to { print("t=\(now) node \(to) <- \(from): \(Self.describe(message)) => \(effects.map { Self.describe($0) })") }
            carryOut(effects, at: to, from: from)
        case .timer(let index, let epoch, let timeout):
            guard nodes[index].core != nil, nodes[index].epoch == epoch else { return }
            carryOut(nodes[index].core!.timeout(timeout, nowMillis: localClock(index)), at: index)
        case .crash(let index):
            // Half the crashes come between a WAL write and the send that follows it.
            if Bool.random(using: &random) { crashPending.insert(index) } else { crash(index) }
        case .restart(let index):
            crashPending.remove(index)
            guard nodes[index].core == nil else { return }
            nodes[index].core = ConsensusCore(tip: nodes[index].tip, machine: machine, key: nodes[index].key, config: config, log: nodes[index].wal)
        case .submit:
            submitTransaction()
            queue.add(.submit, at: now + UInt64.random(in: 200...900, using: &random))
        case .gossip(let index, let signed):
            guard nodes[index].core != nil, nodes[index].mempool.count < 64 else { return }
            nodes[index].mempool.append(signed)
        case .sync(let to, let from):
            sync(to, from: from)
        }
    }

    mutating func tick(_ index: Int) {
        guard nodes[index].core != nil else { return }
        let height = nodes[index].tip.header.height
        if height == nodes[index].heightAtLastTick { nodes[index].stalledTicks += 1 } else { nodes[index].stalledTicks = 0 }
        nodes[index].heightAtLastTick = height
        if !nodes[index].mempool.isEmpty && !nodes[index].core!.tendermint.started {
            carryOut(nodes[index].core!.start(nowMillis: localClock(index)), at: index)
        }
        if nodes[index].core?.needsValue == true { propose(index) }
        if nodes[index].stalledTicks >= 2, let effects = nodes[index].core?.rebroadcast() { carryOut(effects, at: index) }
    }

    mutating func propose(_ index: Int) {
        guard !nodes[index].mempool.isEmpty, nodes[index].core != nil else { return }
        let pending = nodes[index].mempool.sorted { ($0.transaction.origin, $0.transaction.nonce) < ($1.transaction.origin, $1.transaction.nonce) }
        carryOut(nodes[index].core!.provide(pending, nowMillis: localClock(index)), at: index)
    }

    mutating func submitTransaction() {
        let payer = Int.random(in: 0..<clients.count, using: &random)
        let payee = (payer + 1) % clients.count
        let tx = Transaction(chain: "ledgerd-sim", type: TransferRule.type, signers: [clients[payer].publicKey, clients[payee].publicKey],
                             nonce: UInt64(nonces[payer]), expiry: .max, body: TransferRule.body(to: clients[payee].publicKey.id, amount: 1))
        nonces[payer] += 1
        submitted += 1
        let signed = SignedTransaction(transaction: tx, keys: [clients[payer], clients[payee]])
        for index in nodes.indices { queue.add(.gossip(node: index, signed), at: now + UInt64.random(in: 1...300, using: &random)) }
    }

    mutating func crash(_ index: Int) {
        nodes[index].core = nil
        nodes[index].mempool = []
        nodes[index].epoch += 1
    }

    // MARK: - Effects

    mutating func carryOut(_ effects: [ConsensusCore.Effect], at index: Int, from sender: Int? = nil) {
        for effect in effects {
            guard nodes[index].core != nil else { return }  // crashed midway
            switch effect {
            case .persist(let message):
                nodes[index].wal.append(message)
                // A crash between the write and the send: the restarted node must say the same again.
                if crashPending.contains(index) {
                    crashPending.remove(index)
                    crash(index)
                    return
                }
            case .broadcast(let message):
                broadcast(message, from: index)
            case .schedule(let timeout, let after):
                queue.add(.timer(node: index, epoch: nodes[index].epoch, timeout), at: now + after)
            case .needValue:
                propose(index)
            case .commit(let block, let applied):
                commit(block, state: applied.state, at: index)
            case .rejected:
                break
            case .evidence(let equivocation):
                if nodes[index].behavior == nil, seenEquivocations[ConsensusCore.EvidenceKey(equivocation)] == nil {
                    seenEquivocations[ConsensusCore.EvidenceKey(equivocation)] = now
                }
            case .peerAhead:
                if let sender { queue.add(.sync(to: index, from: sender), at: now + UInt64.random(in: 1...50, using: &random)) }
            case .refused:
                refused += 1
            }
        }
    }

    mutating func commit(_ block: Block, state: LedgerState, at index: Int) {
        let height = block.height
        let previous = nodes[index].tip
        if nodes[index].behavior == nil {
            if let earlier = decided[height], earlier != block.hash {
                violations.append("agreement: node \(index) decided \(block.hash) at height \(height), another node \(earlier)")
            }
            decided[height] = decided[height] ?? block.hash
            if let commit = block.commit, now > scenario.gstMillis { decidedRound[height] = max(decidedRound[height] ?? 0, commit.round) }
            // Validity: the decided block, certificate included, passes the full rules on the node's previous state.
            if blocksByHash[block.hash] == nil {
                do { _ = try Chain.apply(block, after: previous.header, state: previous.state, machine: machine) } catch {
                    violations.append("validity: node \(index) decided block \(height) that fails the rules: \(error)")
                }
            }
        }
        let tip = ChainTip(header: block.header, state: state, commit: block.commit)
        blocksByHash[block.hash] = (block, tip)
        nodes[index].tip = tip
        nodes[index].chain.append(block.hash)
        nodes[index].wal.removeAll { $0.height <= height }
        let committed = Set(block.transactions.map(\.id))
        nodes[index].mempool.removeAll { committed.contains($0.id) || $0.transaction.nonce < ((try? StateDraft(base: state).account($0.transaction.origin).nonce) ?? 0) }
    }

    /// Block sync: the sender's blocks after this node's tip, each checked in full before it is adopted.
    mutating func sync(_ index: Int, from sender: Int) {
        guard nodes[index].core != nil else { return }
        for hash in nodes[sender].chain.dropFirst(Int(nodes[index].tip.header.height)) {
            guard let (block, _) = blocksByHash[hash] else { return }
            let tip = nodes[index].tip
            guard let applied = try? Chain.apply(block, after: tip.header, state: tip.state, machine: machine) else {
                if nodes[index].behavior == nil { violations.append("sync: node \(index) refused block \(block.height) from node \(sender)") }
                return
            }
            commit(block, state: applied.state, at: index)
            nodes[index].core!.adopt(nodes[index].tip)
        }
    }

    // MARK: - The network

    mutating func broadcast(_ message: ConsensusMessage, from index: Int) {
        guard let behavior = nodes[index].behavior else {
            send(.message(message), from: index, to: nodes.indices.filter { $0 != index })
            return
        }
        let others = nodes.indices.filter { $0 != index }
        let key = nodes[index].key
        switch (behavior, message) {
        case (.silent, _):
            return
        case (.garbage, _):
            for other in others {
                let encoded = message.encoded
                let bytes = Bool.random(using: &random) ? Array(encoded.prefix(Int.random(in: 0..<max(1, encoded.count), using: &random)))
                    : random.bytes(Int.random(in: 1...64, using: &random))
                send(.bytes(bytes), from: index, to: [other])
            }
        case (.equivocate, .vote(let vote)):
            let other = ConsensusVote(kind: vote.kind, chain: vote.chain, height: vote.height, round: vote.round,
                                      block: vote.block == nil ? Digest(bytes: random.bytes(32)) : nil, timeMillis: vote.timeMillis, key: key)
            send(.message(message), from: index, to: others.filter { $0 % 2 == 0 })
            send(.message(.vote(other)), from: index, to: others.filter { $0 % 2 == 1 })
        case (.invalidProposals, .proposal(let proposal)), (.voteInvalid, .proposal(let proposal)), (.equivocate, .proposal(let proposal)):
            var block = proposal.block
            block.header.stateRoot = Digest(bytes: random.bytes(32))!
            let bad = SignedProposal(round: proposal.round, validRound: proposal.validRound, block: block, key: key)
            if behavior == .equivocate {
                send(.message(message), from: index, to: others.filter { $0 % 2 == 0 })
                send(.message(.proposal(bad)), from: index, to: others.filter { $0 % 2 == 1 })
            } else {
                send(.message(.proposal(bad)), from: index, to: others)
            }
        case (.split, .vote(let vote)):
            let honest = others.filter { nodes[$0].behavior == nil }
            let target = vote.block == nil ? nil : honest.randomElement(using: &random)
            let nilVote = ConsensusVote(kind: vote.kind, chain: vote.chain, height: vote.height, round: vote.round, block: nil,
                                        timeMillis: vote.timeMillis, key: key)
            for other in others { send(.message(.vote(other == target ? vote : nilVote)), from: index, to: [other]) }
        case (.split, .proposal(let proposal)):
            // Fresh each time: the same transactions, another millisecond of the same pulse.
            var block = proposal.block
            let parameters = nodes[index].tip.state.parameters
            let now = localClock(index)
            if let parameters, parameters.pulse(atMillis: now) == block.header.pulse { block.header.timeMillis = now } else { block.header.timeMillis += 1 }
            if parameters?.pulse(atMillis: block.header.timeMillis) != block.header.pulse { block.header.timeMillis -= 2 }
            send(.message(.proposal(SignedProposal(round: proposal.round, validRound: nil, block: block, key: key))), from: index, to: others)
        case (.voteInvalid, .vote(let vote)):
            let bad = ConsensusVote(kind: vote.kind, chain: vote.chain, height: vote.height, round: vote.round,
                                    block: Digest(bytes: random.bytes(32)), timeMillis: vote.timeMillis, key: key)
            send(.message(.vote(bad)), from: index, to: others)
        default:
            send(.message(message), from: index, to: others)
        }
    }

    mutating func send(_ payload: Payload, from index: Int, to recipients: [Int]) {
        let beforeGST = now < scenario.gstMillis
        for recipient in recipients {
            if beforeGST {
                if Int.random(in: 0..<100, using: &random) < scenario.dropPercent { continue }
                if let side = scenario.partition, side.contains(index) != side.contains(recipient) { continue }
            }
            let maxDelay = beforeGST ? scenario.delayBeforeGSTMillisMax : scenario.delayAfterGSTMillisMax
            queue.add(.deliver(to: recipient, from: index, payload), at: now + UInt64.random(in: 1...maxDelay, using: &random))
            if Int.random(in: 0..<100, using: &random) < scenario.duplicatePercent {
                queue.add(.deliver(to: recipient, from: index, payload), at: now + UInt64.random(in: 1...maxDelay, using: &random))
            }
        }
    }
}
