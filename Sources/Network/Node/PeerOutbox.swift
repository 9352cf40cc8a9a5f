import Logging

/// One ordered queue per peer, drained onto one long-lived stream of a protocol, reopened when it breaks
/// or after `messagesPerStream` messages (a receiver may read a bounded number per stream). Order is kept
/// per peer, so a sender's transactions arrive in nonce order; at most `queueMax` messages and `bytesMax`
/// bytes wait per peer (a peer that never reads cannot make this node hold more), and what comes beyond is
/// dropped (gossip and consensus both send again what matters).
actor PeerOutbox {
    let swarm: Swarm
    let protocolName: String
    let messagesPerStream: Int
    let queueMax: Int
    let bytesMax: Int
    let logger: Logger
    private var queues: [PeerID: AsyncStream<[UInt8]>.Continuation] = [:]
    private var waiting: [PeerID: (count: Int, bytes: Int)] = [:]
    /// Messages dropped because a peer's queue was full (for tests and logs).
    private(set) var dropped = 0

    init(swarm: Swarm, protocolName: String, messagesPerStream: Int = .max, queueMax: Int = 1_024, bytesMax: Int = 16 << 20, logger: Logger) {
        self.swarm = swarm
        self.protocolName = protocolName
        self.messagesPerStream = messagesPerStream
        self.queueMax = queueMax
        self.bytesMax = bytesMax
        self.logger = logger
    }

    func send(_ message: [UInt8], to peer: PeerID) {
        let queued = waiting[peer] ?? (0, 0)
        guard queued.count < queueMax, queued.bytes + message.count <= bytesMax else {
            dropped += 1
            return
        }
        waiting[peer] = (queued.count + 1, queued.bytes + message.count)
        queue(for: peer).yield(message)
    }

    func close(_ peer: PeerID) {
        queues.removeValue(forKey: peer)?.finish()
        waiting[peer] = nil
    }

    /// Bytes and messages waiting for `peer`.
    func backlog(of peer: PeerID) -> (count: Int, bytes: Int) { waiting[peer] ?? (0, 0) }

    private func taken(_ bytes: Int, by peer: PeerID) {
        guard let queued = waiting[peer] else { return }
        waiting[peer] = queued.count <= 1 ? nil : (queued.count - 1, max(0, queued.bytes - bytes))
    }

    private func queue(for peer: PeerID) -> AsyncStream<[UInt8]>.Continuation {
        if let existing = queues[peer] { return existing }
        let (messages, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .unbounded)
        queues[peer] = continuation
        let swarm = self.swarm, protocolName = self.protocolName, perStream = messagesPerStream, logger = self.logger
        Task {
            var stream: P2PStream?
            var written = 0
            for await message in messages {
                self.taken(message.count, by: peer)
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
