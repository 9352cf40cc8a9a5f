import Consensus
import Ledger
import Logging

/// Consensus messages between bookkeepers over `/ledgerd/consensus/1.0.0` (specs/p2p.md): one long-lived
/// stream per peer and direction, each message varint-prefixed CBOR. Every peer that speaks the protocol
/// gets every message; a message that does not decode is a protocol violation (the swarm bans the peer).
public actor ConsensusPeers {
    public static let consensusProtocol = "/ledgerd/consensus/1.0.0"
    /// Messages queued for one peer before the oldest are dropped (consensus re-sends what matters).
    static let outboxMessagesMax = 1_024

    let driver: ConsensusDriver
    let swarm: Swarm
    let ledgerPeers: LedgerPeers
    let logger: Logger
    private var outboxes: [PeerID: AsyncStream<[UInt8]>.Continuation] = [:]

    public init(driver: ConsensusDriver, swarm: Swarm, ledgerPeers: LedgerPeers, logger: Logger) {
        self.driver = driver
        self.swarm = swarm
        self.ledgerPeers = ledgerPeers
        self.logger = logger
    }

    public func start() async {
        let driver = self.driver
        let ledgerPeers = self.ledgerPeers
        await swarm.handle(Self.consensusProtocol) { stream in
            while let bytes = try await stream.readMessageOrEnd(max: ConsensusMessage.encodedBytesMax) {
                let message: ConsensusMessage
                do { message = try ConsensusMessage.decodeUntrusted(bytes) } catch { throw WireError.malformed("consensus message: \(error)") }
                if await driver.receive(message) {
                    let peer = stream.peer
                    Task { await ledgerPeers.sync(from: peer) }
                }
            }
            await stream.close()
        }
        await swarm.observeConnections { [weak self] peer, connected in
            if !connected { await self?.close(peer) }
        }
        await driver.connect { [weak self] message in await self?.broadcast(message) }
    }

    private func close(_ peer: PeerID) {
        outboxes.removeValue(forKey: peer)?.finish()
    }

    private func broadcast(_ message: ConsensusMessage) async {
        let encoded = message.encoded
        for peer in await swarm.connectedPeers.map(\.peer) where swarm.addressBook.entry(peer)?.protocols.contains(Self.consensusProtocol) ?? false {
            outbox(for: peer).yield(encoded)
        }
    }

    /// The peer's queue, drained in order onto one stream, reopened when it breaks.
    private func outbox(for peer: PeerID) -> AsyncStream<[UInt8]>.Continuation {
        if let existing = outboxes[peer] { return existing }
        let (messages, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(Self.outboxMessagesMax))
        outboxes[peer] = continuation
        let swarm = self.swarm
        let logger = self.logger
        Task {
            var stream: P2PStream?
            for await message in messages {
                for _ in 0..<2 {
                    do {
                        if stream == nil { stream = try await swarm.openStream(to: peer, protocols: [Self.consensusProtocol]) }
                        try await stream?.writeMessage(message)
                        break
                    } catch {
                        logger.debug("consensus stream broke; reopening", metadata: ["peer": "\(peer.short)", "error": "\(error)"])
                        await stream?.reset()
                        stream = nil
                    }
                }
            }
            await stream?.close()
        }
        return continuation
    }
}
