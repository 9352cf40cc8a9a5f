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
    private let outbox: PeerOutbox

    public init(driver: ConsensusDriver, swarm: Swarm, ledgerPeers: LedgerPeers, logger: Logger) {
        self.driver = driver
        self.swarm = swarm
        self.ledgerPeers = ledgerPeers
        self.logger = logger
        outbox = PeerOutbox(swarm: swarm, protocolName: Self.consensusProtocol, queueMax: Self.outboxMessagesMax, logger: logger)
    }

    public func start() async {
        let driver = self.driver
        let ledgerPeers = self.ledgerPeers
        await swarm.handle(Self.consensusProtocol) { stream in
            while let bytes = try await stream.readMessageOrEnd(max: ConsensusMessage.encodedBytesMax) {
                let message: ConsensusMessage
                do { message = try ConsensusMessage.decodeUntrusted(bytes) } catch { throw WireError.malformed("consensus message: \(error)") }
                let verdict = await driver.receive(message)
                // Forged or misdirected consensus messages cost the sender its connection (the swarm bans it).
                if let refused = verdict.refused { throw WireError.malformed("consensus message refused: \(refused)") }
                if verdict.ahead {
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

    private func close(_ peer: PeerID) async { await outbox.close(peer) }

    private func broadcast(_ message: ConsensusMessage) async {
        let encoded = message.encoded
        for peer in await swarm.connectedPeers.map(\.peer) where swarm.addressBook.entry(peer)?.protocols.contains(Self.consensusProtocol) ?? false {
            await outbox.send(encoded, to: peer)
        }
    }
}
