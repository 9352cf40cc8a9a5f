import Logging

/// One ordered queue per peer, drained onto one long-lived stream of a protocol, reopened when it breaks
/// or after `messagesPerStream` messages (a receiver may read a bounded number per stream). Order is kept
/// per peer, so a sender's transactions arrive in nonce order; at most `queueMax` wait per peer, the oldest
/// dropped beyond (gossip and consensus both send again what matters).
actor PeerOutbox {
    let swarm: Swarm
    let protocolName: String
    let messagesPerStream: Int
    let queueMax: Int
    let logger: Logger
    private var queues: [PeerID: AsyncStream<[UInt8]>.Continuation] = [:]

    init(swarm: Swarm, protocolName: String, messagesPerStream: Int = .max, queueMax: Int = 1_024, logger: Logger) {
        self.swarm = swarm
        self.protocolName = protocolName
        self.messagesPerStream = messagesPerStream
        self.queueMax = queueMax
        self.logger = logger
    }

    func send(_ message: [UInt8], to peer: PeerID) { queue(for: peer).yield(message) }

    func close(_ peer: PeerID) { queues.removeValue(forKey: peer)?.finish() }

    private func queue(for peer: PeerID) -> AsyncStream<[UInt8]>.Continuation {
        if let existing = queues[peer] { return existing }
        let (messages, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(queueMax))
        queues[peer] = continuation
        let swarm = self.swarm, protocolName = self.protocolName, perStream = messagesPerStream, logger = self.logger
        Task {
            var stream: P2PStream?
            var written = 0
            for await message in messages {
                for _ in 0..<2 {
                    do {
                        if stream == nil {
                            stream = try await swarm.openStream(to: peer, protocols: [protocolName])
                            written = 0
                        }
                        try await stream?.writeMessage(message)
                        written += 1
                        if written >= perStream {
                            await stream?.close()
                            stream = nil
                        }
                        break
                    } catch {
                        logger.debug("stream broke; reopening", metadata: ["peer": "\(peer.short)", "protocol": "\(protocolName)", "error": "\(error)"])
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
