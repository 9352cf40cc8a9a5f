import Ledger

/// One direction of a Noise transport: a key and a counter (the nonce). Frames carry at most 65,535
/// bytes, so 65,519 of plaintext.
public struct NoiseCipher: Sendable {
    public static let maxPlaintext = 65_535 - 16
    let key: [UInt8]
    var nonce: UInt64 = 0

    public mutating func seal(_ plaintext: [UInt8], ad: [UInt8] = []) -> [UInt8] {
        defer { nonce += 1 }
        return NoiseCrypto.seal(key: key, nonce: nonce, ad: ad, plaintext: plaintext)
    }

    public mutating func open(_ ciphertext: [UInt8], ad: [UInt8] = []) throws(WireError) -> [UInt8] {
        let plaintext = try NoiseCrypto.open(key: key, nonce: nonce, ad: ad, ciphertext: ciphertext)
        nonce += 1
        return plaintext
    }
}

/// Noise_XX_25519_ChaChaPoly_SHA256 with libp2p's identity payload (specs/p2p.md §Noise), as a pure
/// state machine: feed it the peer's handshake messages, send what it returns. Three messages:
///   → e
///   ← e, ee, s, es, payload(responder identity)
///   → s, se, payload(initiator identity)
public struct NoiseHandshake {
    public static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"
    public static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    public let isInitiator: Bool
    let identity: SecretKey
    let staticSecret: [UInt8]
    let ephemeralSecret: [UInt8]
    var chainingKey: [UInt8]
    var hash: [UInt8]
    var cipher: NoiseCipher?
    var remoteEphemeral: [UInt8] = []
    var remoteStatic: [UInt8] = []
    /// The peer's proven identity, once its payload has been checked.
    public private(set) var remotePeer: PeerID?
    public private(set) var remoteKey: LibP2PKey?

    /// `staticSecret`/`ephemeralSecret` are random per connection in use; tests pass fixed ones for vectors.
    public init(initiator: Bool, identity: SecretKey, staticSecret: [UInt8]? = nil, ephemeralSecret: [UInt8]? = nil) {
        isInitiator = initiator
        self.identity = identity
        self.staticSecret = staticSecret ?? NoiseCrypto.randomSecret()
        self.ephemeralSecret = ephemeralSecret ?? NoiseCrypto.randomSecret()
        // The name is exactly 32 bytes, so h starts as the name itself; the prologue is empty.
        hash = Array(Self.protocolName.utf8)
        chainingKey = hash
        mixHash([])
    }

    // MARK: - The three messages

    /// Initiator, message 1: the ephemeral key, then an empty payload.
    public mutating func writeFirst() -> [UInt8] {
        let ephemeral = NoiseCrypto.x25519Public(ephemeralSecret)
        mixHash(ephemeral)
        return ephemeral + encryptAndHash([])
    }

    /// Responder: reads message 1, returns message 2.
    public mutating func readFirstWriteSecond(_ message: [UInt8]) throws(WireError) -> [UInt8] {
        guard message.count >= 32 else { throw .malformed("Noise message 1 shorter than a key") }
        remoteEphemeral = Array(message[..<32])
        mixHash(remoteEphemeral)
        _ = try decryptAndHash(Array(message[32...]))
        let ephemeral = NoiseCrypto.x25519Public(ephemeralSecret)
        mixHash(ephemeral)
        mixKey(try NoiseCrypto.x25519(ephemeralSecret, remoteEphemeral))  // ee
        let sealedStatic = encryptAndHash(NoiseCrypto.x25519Public(staticSecret))
        mixKey(try NoiseCrypto.x25519(staticSecret, remoteEphemeral))  // es
        return ephemeral + sealedStatic + encryptAndHash(payload())
    }

    /// Initiator: reads message 2 (checking the responder's identity), returns message 3.
    public mutating func readSecondWriteThird(_ message: [UInt8]) throws(WireError) -> [UInt8] {
        guard message.count >= 32 + 48 + 16 else { throw .malformed("Noise message 2 too short") }
        remoteEphemeral = Array(message[..<32])
        mixHash(remoteEphemeral)
        mixKey(try NoiseCrypto.x25519(ephemeralSecret, remoteEphemeral))  // ee
        remoteStatic = try decryptAndHash(Array(message[32..<80]))
        mixKey(try NoiseCrypto.x25519(ephemeralSecret, remoteStatic))  // es
        try checkPayload(try decryptAndHash(Array(message[80...])))
        let sealedStatic = encryptAndHash(NoiseCrypto.x25519Public(staticSecret))
        mixKey(try NoiseCrypto.x25519(staticSecret, remoteEphemeral))  // se
        return sealedStatic + encryptAndHash(payload())
    }

    /// Responder: reads message 3 (checking the initiator's identity).
    public mutating func readThird(_ message: [UInt8]) throws(WireError) {
        guard message.count >= 48 + 16 else { throw .malformed("Noise message 3 too short") }
        remoteStatic = try decryptAndHash(Array(message[..<48]))
        mixKey(try NoiseCrypto.x25519(ephemeralSecret, remoteStatic))  // se
        try checkPayload(try decryptAndHash(Array(message[48...])))
    }

    /// The transport ciphers: (send, receive).
    public func split() -> (send: NoiseCipher, receive: NoiseCipher) {
        let (first, second) = NoiseCrypto.hkdf(chainingKey: chainingKey, input: [])
        let initiatorToResponder = NoiseCipher(key: first), responderToInitiator = NoiseCipher(key: second)
        return isInitiator ? (initiatorToResponder, responderToInitiator) : (responderToInitiator, initiatorToResponder)
    }

    // MARK: - libp2p payload

    /// NoiseHandshakePayload {1: identity key, 2: signature over prefix ‖ Noise static key}.
    func payload() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes(1, identity.libp2pKey.protobuf)
        writer.bytes(2, identity.libp2pSignature(Self.signaturePrefix + NoiseCrypto.x25519Public(staticSecret)))
        return writer.bytes
    }

    mutating func checkPayload(_ bytes: [UInt8]) throws(WireError) {
        let message = try ProtobufMessage(bytes)
        guard let keyBytes = message.bytes(1), let signature = message.bytes(2) else { throw .malformed("Noise payload without identity key or signature") }
        let key = try LibP2PKey(protobuf: keyBytes)
        guard key.verify(signature: signature, message: Self.signaturePrefix + remoteStatic) else {
            throw .malformed("Noise payload signature does not bind the identity key to the static key")
        }
        remoteKey = key
        remotePeer = PeerID(key: key)
    }

    // MARK: - Symmetric state

    mutating func mixHash(_ data: [UInt8]) { hash = NoiseCrypto.sha256(hash + data) }

    mutating func mixKey(_ input: [UInt8]) {
        let (nextChainingKey, key) = NoiseCrypto.hkdf(chainingKey: chainingKey, input: input)
        chainingKey = nextChainingKey
        cipher = NoiseCipher(key: key)
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) -> [UInt8] {
        let ciphertext = cipher == nil ? plaintext : cipher!.seal(plaintext, ad: hash)
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(WireError) -> [UInt8] {
        let plaintext = cipher == nil ? ciphertext : try cipher!.open(ciphertext, ad: hash)
        mixHash(ciphertext)
        return plaintext
    }
}
