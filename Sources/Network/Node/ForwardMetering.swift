import Credit
import Foundation
import Ledger
import Logging
import Storage

/// Relayed bytes billed under forwarding contracts (specs/credit.md §Metering in practice, "Forwarding";
/// specs/p2p.md §7.5). One stream per contract, kept in its own receipt book (`forward-receipts.sqlite`,
/// the contract's ID as the party).
///
/// As a relay, the node holds reservations only for clients with an open forwarding contract naming it
/// and a line it grants them; it admits each relayed chunk by `MeteringPolicy` on the contract's value
/// of the bytes (⌈bytes × pricePPM / 10⁶⌉), checks the client's `forward` receipts over
/// `/ledgerd/forward-receipt/1.0.0`, and settles the newest when due. As a client, it counts every raw
/// byte of its relayed connections and signs a cumulative `forward` receipt every receipt interval.
public actor ForwardMetering: RelayPolicy {
    public static let protocolID = "/ledgerd/forward-receipt/1.0.0"
    public static let fileName = "forward-receipts.sqlite"

    let key: SecretKey
    let me: ID
    let node: LedgerNode
    let swarm: Swarm
    let book: ReceiptBook
    let settings: Metering.Settings
    let logger: Logger
    var policy: MeteringPolicy { settings.policy }

    /// Relay side, by contract: bytes relayed and the newest receipt. Client side, by contract: bytes counted.
    private var relayed: [ID: ReceiptBook.Stream] = [:]
    private var receipts: [ID: SignedReceipt] = [:]
    private var counted: [ID: ReceiptBook.Stream] = [:]
    private var relayPeers: [ID: PeerID] = [:]
    private var stopped: [ID: String] = [:]
    private var contracts: [[UInt8]: (height: UInt64, contract: ForwardContract?)] = [:]
    private var lastSettled: [ID: Date] = [:]
    private var signing: Set<ID> = []

    public init(key: SecretKey, node: LedgerNode, swarm: Swarm, book: ReceiptBook, settings: Metering.Settings, logger: Logger = .quiet("ledgerd.forward")) throws {
        self.key = key
        me = key.publicKey.id
        self.node = node
        self.swarm = swarm
        self.book = book
        self.settings = settings
        self.logger = logger
        for stream in try book.streams(.provided) {
            guard let contract = ID(bytes: stream.party) else { continue }
            relayed[contract] = stream
            receipts[contract] = stream.receipt.flatMap { try? SignedReceipt(encoded: $0) }
        }
        for stream in try book.streams(.consumed) {
            guard let contract = ID(bytes: stream.party) else { continue }
            counted[contract] = stream
        }
    }

    public func start() async {
        await swarm.handle(Self.protocolID) { [weak self] stream in try await self?.serve(stream) }
    }

    /// The open contract between `client` and `relay`, read once per height.
    private func contract(client: ID, relay: ID) async -> ForwardContract? {
        let height = await node.latest.height
        let key = client.bytes + relay.bytes
        if let cached = contracts[key], cached.height == height { return cached.contract }
        let found = await node.forwardContract(client: client, relay: relay)
        if contracts.count > 4_096 { contracts.removeAll() }
        contracts[key] = (height, found)
        return found
    }

    private func standing(_ contract: ForwardContract) async -> (MeteringPolicy.Standing, Settlement?) {
        let chain = await node.standing(provider: me, consumer: contract.client, service: .forward, contract: contract.id)
        let stream = relayed[contract.id] ?? ReceiptBook.Stream(party: contract.id.bytes)
        func value(_ bytes: UInt64) -> UInt64 { contract.value(ofBytes: bytes) ?? .max }
        return (MeteringPolicy.Standing(limit: chain.limit, owed: chain.owed, settled: value(chain.settlement?.units ?? 0), served: value(stream.moved),
                                        receipted: value(stream.units), unreceipted: value(stream.moved - min(stream.moved, stream.units))),
                chain.settlement)
    }

    // MARK: - Relay

    public func refusal(toReserveFor client: PeerID) async -> String? {
        guard let id = client.ledgerID else { return "the peer has no ledger account" }
        guard let contract = await contract(client: id, relay: me) else { return "no open forwarding contract names this node as relay for \(id)" }
        guard await standing(contract).0.hasLine else { return "this node grants \(id) no credit line to bill the forwarding against" }
        return nil
    }

    public func relay(for client: PeerID, bytes: Int) async -> Bool {
        guard let id = client.ledgerID, let contract = await contract(client: id, relay: me) else { return false }
        let (standing, _) = await standing(contract)
        let value = contract.value(ofBytes: UInt64(max(0, bytes))) ?? .max
        let decision = policy.admit(value, standing: standing, freeUsedToday: 0)
        guard standing.hasLine, decision == .serve else {
            if stopped[contract.id] == nil {
                logger.info("relay stopped forwarding for a client", metadata: ["client": "\(id)", "reason": "\(decision)"])
                Task { await self.settle(contract.id) }
            }
            stopped[contract.id] = decision.description
            return false
        }
        stopped[contract.id] = nil
        relayed[contract.id, default: ReceiptBook.Stream(party: contract.id.bytes)].moved &+= UInt64(max(0, bytes))
        return true
    }

    private nonisolated func serve(_ stream: P2PStream) async throws {
        defer { Task { await stream.close() } }
        guard let bytes = try await stream.readMessageOrEnd(max: Metering.messageBytesMax) else { return }
        guard let signed = try? SignedReceipt(encoded: bytes), (try? signed.verify()) != nil else { throw WireError.malformed("not a signed receipt") }
        guard stream.peer.ledgerID == signed.receipt.consumer else { throw WireError.malformed("receipt for a consumer that is not the sending peer") }
        let answer: CBOR = switch await accept(signed) {
        case .success(let ack): .map(["ack": .bytes(ack.encoded)])
        case .failure(let why): .map(["error": .text(why.text)])
        }
        try await stream.writeMessage(CBOREncoder.encode(answer))
    }

    func accept(_ signed: SignedReceipt) async -> Result<ReceiptAcknowledgement, Metering.Refusal> {
        let receipt = signed.receipt
        guard receipt.provider == me, receipt.service == .forward, let id = receipt.contract else {
            return .failure(.init(text: "this node takes forward receipts for its own contracts here"))
        }
        guard receipt.chain.sameBytes(as: node.chainID) else { return .failure(.init(text: "the receipt is for chain '\(receipt.chain)'")) }
        guard receipt.sequence <= UInt64(Int64.max), receipt.units <= UInt64(Int64.max) else { return .failure(.init(text: "receipt numbers and units stop at 2^63 - 1")) }
        guard let contract = await contract(client: receipt.consumer, relay: me), contract.id == id else {
            return .failure(.init(text: "no open forwarding contract \(id) in which this node relays for \(receipt.consumer)"))
        }
        guard var stream = relayed[id] else { return .failure(.init(text: "this node relayed nothing under contract \(id)")) }
        guard receipt.units <= MeteringPolicy.Standing.sum(stream.moved, policy.tolerance) else {
            return .failure(.init(text: "the receipt counts \(receipt.units) bytes; this node relayed \(stream.moved)"))
        }
        guard receipt.sequence > stream.sequence, receipt.units > stream.units else {
            return .failure(.init(text: "stale receipt: number \(receipt.sequence) for \(receipt.units) bytes, after number \(stream.sequence) for \(stream.units)"))
        }
        stream.units = receipt.units
        stream.sequence = receipt.sequence
        stream.receipt = signed.encoded
        do { try book.save(.provided, [stream]) } catch { return .failure(.init(text: "this node could not keep the receipt")) }
        relayed[id] = stream
        receipts[id] = signed
        return .success(ReceiptAcknowledgement(receipt: receipt, providerKey: key))
    }

    func settle(_ id: ID) async {
        guard let signed = receipts[id], let contract = await contract(client: signed.receipt.consumer, relay: me), contract.id == id else { return }
        let (_, record) = await standing(contract)
        guard signed.receipt.units > (record?.units ?? 0), !(record?.pending == true && record?.units == signed.receipt.units) else { return }
        if let last = lastSettled[id], Date().timeIntervalSince(last) < Metering.retrySeconds { return }
        lastSettled[id] = Date()
        do {
            _ = try await node.submitOwn(SettlementRules.settle, body: SettlementRules.body(signed), key: key)
            logger.info("settling forwarded bytes", metadata: ["contract": "\(id)", "units": "\(signed.receipt.units)"])
        } catch {
            logger.warning("forward settlement not accepted", metadata: ["contract": "\(id)", "reason": "\(error)"])
        }
    }

    // MARK: - Client

    /// Raw bytes of a connection relayed by `relay` (both directions).
    public func counted(_ relay: PeerID, bytes: Int) async {
        guard settings.signReceipts, let relayID = relay.ledgerID, let contract = await contract(client: me, relay: relayID) else { return }
        counted[contract.id, default: ReceiptBook.Stream(party: contract.id.bytes)].moved &+= UInt64(max(0, bytes))
        relayPeers[contract.id] = relay
        if let stream = counted[contract.id], stream.moved - min(stream.moved, stream.units) >= policy.receiptInterval { signAndSend(contract) }
    }

    private func signAndSend(_ contract: ForwardContract) {
        guard signing.insert(contract.id).inserted else { return }
        Task { await self.send(contract) }
    }

    /// Signs one cumulative receipt for all counted bytes (its number written first) and sends it.
    private func send(_ contract: ForwardContract) async {
        defer { signing.remove(contract.id) }
        guard var stream = counted[contract.id], stream.moved > stream.units, let peer = relayPeers[contract.id] else { return }
        let receipt = UsageReceipt(chain: node.chainID, provider: contract.relay, consumer: me, service: .forward, contract: contract.id,
                                   sequence: stream.sequence + 1, units: stream.moved)
        let signed = SignedReceipt(receipt: receipt, key: key)
        stream.units = receipt.units
        stream.sequence = receipt.sequence
        stream.receipt = signed.encoded
        do { try book.save(.consumed, [stream]) } catch { return }
        counted[contract.id] = stream
        if case .acknowledged(let ack) = await Metering.exchange(signed, to: peer, swarm: swarm, logger: logger, protocolID: Self.protocolID) {
            try? book.saveAck(provider: contract.id.bytes, sequence: receipt.sequence, units: receipt.units, ack: ack.encoded)
        }
    }

    // MARK: - Rounds and report

    /// Every P2P round: counters to disk, the remainder receipted, settlements due.
    public func round() async {
        try? book.save(.provided, Array(relayed.values))
        try? book.save(.consumed, Array(counted.values))
        for (id, stream) in counted where stream.moved > stream.units {
            guard let peer = relayPeers[id], let relayID = peer.ledgerID, let contract = await contract(client: me, relay: relayID) else { continue }
            signAndSend(contract)
        }
        for (id, signed) in receipts {
            guard let contract = await contract(client: signed.receipt.consumer, relay: me), contract.id == id else { continue }
            let (standing, _) = await standing(contract)
            let due = policy.settleDue(standing) || stopped[id] != nil || Date().timeIntervalSince(lastSettled[id] ?? .distantPast) >= settings.settleInterval
            if due { await settle(id) }
        }
    }

    public struct Stream: Sendable {
        public let contract: ID
        public let relayed: UInt64
        public let receipted: UInt64
        public let sequence: UInt64
        public let stopped: String?
    }

    /// Relay side and client side, by contract.
    public func report() -> (relayed: [Stream], counted: [Stream]) {
        func rows(_ streams: [ID: ReceiptBook.Stream]) -> [Stream] {
            streams.sorted { $0.key.text < $1.key.text }.map { Stream(contract: $0.key, relayed: $0.value.moved, receipted: $0.value.units,
                                                                       sequence: $0.value.sequence, stopped: stopped[$0.key]) }
        }
        return (rows(relayed), rows(counted))
    }
}
