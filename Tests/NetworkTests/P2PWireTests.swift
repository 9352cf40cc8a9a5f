import Foundation
import Ledger
import LedgerTestSupport
import Testing
@testable import LedgerNetwork

@Suite struct P2PWireTests {
    @Test func varintsRejectOverlongAndNonMinimal() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 1 << 40] {
            let encoded = Varint.encode(value)
            #expect(try Varint.decode(encoded)?.value == value)
            #expect(try Varint.decode(encoded.dropLast()) == nil)
        }
        #expect(throws: WireError.self) { try Varint.decode([0x80, 0x00]) }
        #expect(throws: WireError.self) { try Varint.decode([UInt8](repeating: 0xff, count: 10)) }
    }

    @Test func base58RoundTripsAndRejectsForeignCharacters() {
        for bytes: [UInt8] in [[], [0], [0, 0, 1], Array(0...40)] { #expect(Base58.decode(Base58.encode(bytes)) == bytes) }
        #expect(Base58.decode("0OIl") == nil)
    }

    @Test func peerIDsComeFromTheLedgerKey() throws {
        let key = testKey(1)
        let peer = key.peerID
        #expect(peer.description.hasPrefix("16Uiu2"))
        #expect(PeerID(peer.description) == peer)
        #expect(peer.ledgerID == key.publicKey.id)
        #expect(PeerID("16Uiu2HAmNotAPeer") == nil)
        // A peer ID whose inlined key is not a point on the curve is refused.
        var bytes = peer.bytes
        bytes[bytes.count - 33] = 0x05
        #expect(throws: WireError.self) { try PeerID(bytes: bytes) }
    }

    @Test func multiaddrsParseAndRefuseNonsense() throws {
        let address = try Multiaddr("/ip4/127.0.0.1/tcp/7650/p2p/\(testKey(2).peerID)")
        #expect(address.tcpEndpoint?.host == "127.0.0.1" && address.tcpEndpoint?.port == 7650)
        #expect(address.peer == testKey(2).peerID)
        #expect(try Multiaddr(bytes: address.bytes) == address)
        for bad in ["", "ip4/1.2.3.4", "/ip4/1.2.3", "/ip4/1.2.3.4/tcp/70000", "/udp/1/quic", "/ip4/1.2.3.4/tcp", "/p2p/xyz"] {
            #expect(throws: WireError.self, "\(bad)") { try Multiaddr(bad) }
        }
        #expect(throws: WireError.self) { try Multiaddr(bytes: [0x04, 127, 0]) }
    }

    /// The two halves of a handshake agree on keys, prove each other's identity, and a flipped bit
    /// anywhere in a handshake message makes it fail.
    @Test func noiseHandshakeAuthenticatesBothSides() throws {
        var initiator = NoiseHandshake(initiator: true, identity: testKey(1))
        var responder = NoiseHandshake(initiator: false, identity: testKey(2))
        let second = try responder.readFirstWriteSecond(initiator.writeFirst())
        let third = try initiator.readSecondWriteThird(second)
        try responder.readThird(third)
        #expect(initiator.remotePeer == testKey(2).peerID)
        #expect(responder.remotePeer == testKey(1).peerID)
        var (send, _) = initiator.split()
        var (_, receive) = responder.split()
        #expect(try receive.open(send.seal([1, 2, 3])) == [1, 2, 3])
        #expect(throws: WireError.self) { try receive.open(send.seal([4]).map { $0 ^ 1 }) }

        for position in [0, 40, 90, -1] {
            var initiator = NoiseHandshake(initiator: true, identity: testKey(1))
            var responder = NoiseHandshake(initiator: false, identity: testKey(2))
            var tampered = try responder.readFirstWriteSecond(initiator.writeFirst())
            // Each handshake's message 2 has its own length (the DER signature inside is 70 to 72 bytes).
            let index = position < 0 ? tampered.count + position : position
            tampered[index] ^= 0x01
            #expect(throws: WireError.self, "bit flipped at \(index)") { try initiator.readSecondWriteThird(tampered) }
        }
    }

    @Test func yamuxHeadersRoundTripAndRejectUnknowns() throws {
        let header = YamuxHeader(kind: .data, flags: [.syn, .fin], stream: 7, length: 1000)
        #expect(try YamuxHeader(header.bytes) == header)
        #expect(throws: WireError.self) { try YamuxHeader([1] + header.bytes.dropFirst()) }
        #expect(throws: WireError.self) { try YamuxHeader([0, 9] + header.bytes.dropFirst(2)) }
    }

    @Test func kadMessagesRoundTripAndBoundPeers() throws {
        let peer = KadMessage.Peer(id: testKey(3).peerID, addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/1")])
        let message = KadMessage(kind: .getProviders, key: [1, 2, 3], closer: [peer], providers: [peer])
        #expect(try KadMessage(bytes: message.bytes) == message)
        let flood = KadMessage(kind: .findNode, closer: Array(repeating: peer, count: 65))
        #expect(throws: WireError.self) { try KadMessage(bytes: flood.bytes) }
    }

    /// Every decoder a peer can reach, fed seeded random bytes, truncations and bit flips: errors, never a crash.
    @Test func decodersSurviveHostileBytes() throws {
        var generator = SeededGenerator(seed: 55)
        let peer = KadMessage.Peer(id: testKey(3).peerID, addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/1")])
        let valid: [[UInt8]] = [
            KadMessage(kind: .getProviders, key: [1, 2, 3], closer: [peer], providers: [peer]).bytes,
            Identify.encode(Identify.Info(key: testKey(1).libp2pKey, listenAddresses: [], protocols: ["/a"], observed: nil, agent: "x", protocolVersion: "y")),
            try Multiaddr("/ip4/127.0.0.1/tcp/7650/p2p/\(testKey(1).peerID)").bytes,
        ]
        func feed(_ bytes: [UInt8]) {
            _ = try? KadMessage(bytes: bytes)
            _ = try? Identify.decode(bytes)
            _ = try? Multiaddr(bytes: bytes)
            _ = try? PeerID(bytes: bytes)
            _ = try? ProtobufMessage(bytes)
            _ = try? LibP2PKey(protobuf: bytes)
            if bytes.count >= 12 { _ = try? YamuxHeader(Array(bytes.prefix(12))) }
        }
        for _ in 0..<5000 { feed((0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for bytes in valid {
            for length in 0..<bytes.count { feed(Array(bytes.prefix(length))) }
            for _ in 0..<2000 {
                var mutated = bytes
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                feed(mutated)
            }
        }
    }

    @Test func dhtRecordsAreCheckedAgainstTheirKey() throws {
        let owner = testKey(1), other = testKey(2)
        let key = "/ledgerd/addr/\(owner.publicKey.id.text)"
        let record = DHTRecord(key: key, value: Array("hello".utf8), seq: 3, signer: owner)
        #expect(try DHTRecord(encoded: record.encoded, expectedKey: key) == record)
        #expect(throws: DHTRecordError.self) { try DHTRecord(encoded: record.encoded, expectedKey: key + "x") }
        let forged = DHTRecord(key: key, value: Array("evil".utf8), seq: 4, signer: other)
        #expect(throws: DHTRecordError.self) { try DHTRecord(encoded: forged.encoded, expectedKey: key) }
        #expect(throws: DHTRecordError.self) { try DHTRecord(encoded: DHTRecord(key: "/pk/x", value: [], seq: 1, signer: owner).encoded, expectedKey: "/pk/x") }
        #expect(DHTRecord.isValidKey("/ledgerd/mimei/\(owner.publicKey.id.text)") && !DHTRecord.isValidKey("/ledgerd/mimei/\(owner.publicKey.id.text)/site"))
        // A MiMei key's owner is in its head, not in the key.
        #expect(DHTRecord.owner(of: "/ledgerd/mimei/\(owner.publicKey.id.text)") == nil && DHTRecord.owner(of: key) == owner.publicKey.id)
    }

    @Test func routingTableKeepsBucketsBoundedAndFindsClosest() {
        let local = testKey(100).peerID
        var table = RoutingTable(local: local, bucketSize: 4)
        let peers = (0..<200).map { testKey(1000 + $0).peerID }
        for peer in peers { table.add(peer) }
        #expect(table.count < 200)
        let addedSelf = table.add(local)
        #expect(!addedSelf)
        let target = KadKey(peer: peers[0])
        let closest = table.closest(to: target, count: 5)
        let sorted = closest.map { KadKey(peer: $0).distance(to: target) }
        #expect(sorted == sorted.sorted())
        let victim = closest[0]
        table.failed(victim)
        #expect(table.contains(victim))
        table.failed(victim)
        #expect(!table.contains(victim))
    }

    @Test func providerRecordsExpire() {
        var store = ProviderStore(ttl: 100)
        let key: [UInt8] = [1]
        store.add(key: key, provider: testKey(1).peerID, now: 0)
        #expect(store.providers(of: key, now: 50) == [testKey(1).peerID])
        #expect(store.providers(of: key, now: 101).isEmpty)
        #expect(store.keyCount == 0)
    }

    @Test func peerGuardBansAndRateLimits() {
        var limits = PeerGuard.Limits()
        limits.streamsPerSecond = 5
        limits.handshakeFailuresPerMinute = 3
        let guardian = PeerGuard(limits: limits)
        let peer = testKey(1).peerID
        guardian.ban(peer, reason: "bad frame", now: 0)
        #expect(guardian.banReason(peer, now: 10) == "bad frame")
        #expect(guardian.banReason(peer, now: limits.banSeconds + 1) == nil)
        let allowed = (0..<10).filter { _ in guardian.allowStream(from: peer, now: 100) }.count
        #expect(allowed == 5)
        #expect(guardian.allowStream(from: peer, now: 101))
        for _ in 0..<3 { guardian.handshakeFailed(host: "10.0.0.1", now: 0) }
        #expect(guardian.hostRefused("10.0.0.1", now: 1))
        #expect(!guardian.hostRefused("10.0.0.1", now: 61))
        #expect(!guardian.hostRefused("10.0.0.2", now: 1))
    }

    @Test func contentKeysAcceptCIDsAndHex() {
        let digest = SHA256.hash(Array("x".utf8))
        #expect(ContentKey.parse(digest.hex) == [0x12, 0x20] + digest.bytes)
        let cid = CID.dagCBOR(Array("x".utf8))
        #expect(ContentKey.parse(cid.text) == Array(cid.bytes.dropFirst(2)))
        #expect(ContentKey.parse("not a key") == nil)
    }
}
