import Ledger
import NIOCore

/// The Noise upgrade of a raw connection (specs/p2p.md §Noise): runs the XX handshake with 2-byte
/// big-endian length-prefixed messages and returns the peer's proven identity and the two ciphers.
enum SecureChannel {
    struct Established {
        let peer: PeerID
        let key: LibP2PKey
        let send: NoiseCipher
        let receive: NoiseCipher
    }

    static func handshake(initiator: Bool, identity: SecretKey, expected: PeerID?, reader: BufferedReader,
                          write: ([UInt8]) async throws -> Void) async throws -> Established {
        var state = NoiseHandshake(initiator: initiator, identity: identity)
        func frame(_ message: [UInt8]) -> [UInt8] { [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message }
        func readFrame() async throws -> [UInt8] {
            let length = try await reader.readExactly(2)
            return try await reader.readExactly(Int(length[0]) << 8 | Int(length[1]))
        }
        if initiator {
            try await write(frame(state.writeFirst()))
            let third = try state.readSecondWriteThird(try await readFrame())
            try await write(frame(third))
        } else {
            let second = try state.readFirstWriteSecond(try await readFrame())
            try await write(frame(second))
            try state.readThird(try await readFrame())
        }
        guard let peer = state.remotePeer, let key = state.remoteKey else { throw WireError.malformed("Noise handshake ended without an identity") }
        if let expected, expected != peer { throw P2PError.unexpectedPeer(expected: expected, actual: peer) }
        let (send, receive) = state.split()
        return Established(peer: peer, key: key, send: send, receive: receive)
    }
}

/// Decrypts Noise transport frames from the raw reader, one frame per chunk.
final class NoiseFrameSource {
    private let raw: BufferedReader
    private var cipher: NoiseCipher
    private let onBytes: (Int) -> Void

    init(raw: BufferedReader, cipher: NoiseCipher, onBytes: @escaping (Int) -> Void) {
        self.raw = raw
        self.cipher = cipher
        self.onBytes = onBytes
    }

    func next() async throws -> [UInt8]? {
        let length: [UInt8]
        do { length = try await raw.readExactly(2) } catch WireError.closed { return nil }
        let size = Int(length[0]) << 8 | Int(length[1])
        let sealed = try await raw.readExactly(size)
        onBytes(size + 2)
        return try cipher.open(sealed)
    }
}

/// Encrypts and writes Noise transport frames. Sealing and writing happen under one turn: the actor
/// alone is not enough, because a write that suspends lets the next frame (with the next nonce) overtake it.
/// A sealed frame is never lost: the channel write runs in a task of its own, so cancelling the caller
/// (a deadline's timer, an HTTP request whose client left) cannot drop it and desynchronize the nonces,
/// which the peer would take for forgery. If a write fails all the same, the writer is finished: no
/// later frame goes out with a skipped nonce.
actor SecureWriter {
    private let outbound: any RawSink
    private var cipher: NoiseCipher
    private let onBytes: @Sendable (Int) -> Void
    private var writing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var broken = false

    init(outbound: any RawSink, cipher: NoiseCipher, onBytes: @escaping @Sendable (Int) -> Void) {
        self.outbound = outbound
        self.cipher = cipher
        self.onBytes = onBytes
    }

    func write(_ plaintext: [UInt8]) async throws {
        while writing { await withCheckedContinuation { waiting.append($0) } }
        guard !broken else {
            if !waiting.isEmpty { waiting.removeFirst().resume() }  // each waiter in turn learns it too
            throw YamuxError.sessionClosed
        }
        writing = true
        defer {
            writing = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(plaintext.count + (plaintext.count / NoiseCipher.maxPlaintext + 1) * 18)
        var start = 0
        repeat {
            let end = min(plaintext.count, start + NoiseCipher.maxPlaintext)
            let sealed = cipher.seal(start == 0 && end == plaintext.count ? plaintext : Array(plaintext[start..<end]))
            buffer.writeInteger(UInt16(sealed.count))
            buffer.writeBytes(sealed)
            start = end
        } while start < plaintext.count
        onBytes(buffer.readableBytes)
        let outbound = self.outbound, sealed = buffer
        do {
            try await Task { try await outbound.write(sealed) }.value
        } catch {
            broken = true
            outbound.finish()
            throw error
        }
    }

    func finish() { outbound.finish() }
}
