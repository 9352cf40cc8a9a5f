import Foundation
import Ledger
import LedgerTestSupport
import Testing
@testable import LedgerNetwork

/// specs/vectors/p2p.json: peer IDs, multiaddrs, a whole Noise XX handshake with fixed keys, yamux
/// headers, kad-dht messages, a DHT record and the ledger protocol messages. Tests/p2p/p2p_vectors.py
/// re-derives them with py-libp2p and the `cryptography` package.
@Suite(.serialized) struct P2PVectorTests {
    static func secret(_ label: String) -> [UInt8] { SHA256.hash(Array(label.utf8)).bytes }

    static func vectors() throws -> [String: Any] {
        let keys = (1...3).map(testKey)
        let peers: [[String: Any]] = keys.enumerated().map { index, key in
            ["secret_key_seed": "ledgerd test key \(index + 1)", "compressed_public_key": Hex.encode(key.compressedPublicKey),
             "key_protobuf": Hex.encode(key.libp2pKey.protobuf), "peer_id_hex": Hex.encode(key.peerID.bytes),
             "peer_id": key.peerID.description, "ledger_id": key.publicKey.id.text]
        }
        let addresses = ["/ip4/127.0.0.1/tcp/7650", "/ip6/::1/tcp/7650", "/dns/example.org/tcp/443",
                         "/ip4/10.0.0.1/tcp/7650/p2p/\(keys[0].peerID)"]
        let multiaddrs: [[String: Any]] = try addresses.map { ["text": $0, "bytes": Hex.encode(try Multiaddr($0).bytes)] }

        // Noise: key 1 dials key 2 with fixed X25519 secrets.
        var initiator = NoiseHandshake(initiator: true, identity: keys[0], staticSecret: secret("noise initiator static"), ephemeralSecret: secret("noise initiator ephemeral"))
        var responder = NoiseHandshake(initiator: false, identity: keys[1], staticSecret: secret("noise responder static"), ephemeralSecret: secret("noise responder ephemeral"))
        let first = initiator.writeFirst()
        let second = try responder.readFirstWriteSecond(first)
        let third = try initiator.readSecondWriteThird(second)
        try responder.readThird(third)
        var (send, _) = initiator.split()
        let (_, responderReceive) = responder.split()
        let transport = send.seal(Array("hello".utf8))
        let noise: [String: Any] = [
            "initiator_identity_seed": "ledgerd test key 1", "responder_identity_seed": "ledgerd test key 2",
            "initiator_static_secret": Hex.encode(secret("noise initiator static")), "initiator_ephemeral_secret": Hex.encode(secret("noise initiator ephemeral")),
            "responder_static_secret": Hex.encode(secret("noise responder static")), "responder_ephemeral_secret": Hex.encode(secret("noise responder ephemeral")),
            "message1": Hex.encode(first), "message2": Hex.encode(second), "message3": Hex.encode(third),
            "initiator_to_responder_key": Hex.encode(send.key), "responder_to_initiator_key": Hex.encode(initiator.split().receive.key),
            "first_transport_plaintext": "hello", "first_transport_ciphertext": Hex.encode(transport),
        ]
        #expect(responderReceive.key == send.key)

        let yamux: [[String: Any]] = [
            ["kind": "window_update", "flags": ["syn"], "stream": 1, "length": 0, "bytes": Hex.encode(YamuxHeader(kind: .windowUpdate, flags: .syn, stream: 1, length: 0).bytes)],
            ["kind": "data", "flags": [String](), "stream": 1, "length": 5, "bytes": Hex.encode(YamuxHeader(kind: .data, stream: 1, length: 5).bytes)],
            ["kind": "window_update", "flags": ["fin"], "stream": 2, "length": 262144, "bytes": Hex.encode(YamuxHeader(kind: .windowUpdate, flags: .fin, stream: 2, length: 262_144).bytes)],
            ["kind": "ping", "flags": ["ack"], "stream": 0, "length": 7, "bytes": Hex.encode(YamuxHeader(kind: .ping, flags: .ack, stream: 0, length: 7).bytes)],
        ]

        let findNode = KadMessage(kind: .findNode, key: keys[1].peerID.bytes)
        let answer = KadMessage(kind: .getProviders, key: [0x12, 0x20] + secret("content"),
                                closer: [KadMessage.Peer(id: keys[2].peerID, addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/7652")])],
                                providers: [KadMessage.Peer(id: keys[1].peerID, addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/7651")])])
        let kad: [[String: Any]] = [
            ["description": "FIND_NODE for key 2's peer ID", "bytes": Hex.encode(findNode.bytes)],
            ["description": "GET_PROVIDERS answer: key 3 closer at 127.0.0.1:7652, key 2 provides at 127.0.0.1:7651", "bytes": Hex.encode(answer.bytes)],
        ]

        let record = DHTRecord(key: "/ledgerd/addr/\(keys[0].publicKey.id.text)", value: Array("/ip4/127.0.0.1/tcp/7650".utf8), seq: 1, signer: keys[0])
        let identify = Identify.Info(key: keys[0].libp2pKey, listenAddresses: [try Multiaddr("/ip4/127.0.0.1/tcp/7650")],
                                     protocols: [Identify.protocolID, DHT.protocolID], observed: try Multiaddr("/ip4/127.0.0.1/tcp/50000"),
                                     agent: "ledgerd/0.1.0", protocolVersion: "ipfs/0.1.0")
        return [
            "peer_ids": peers, "multiaddrs": multiaddrs, "noise_xx": noise, "yamux_headers": yamux, "kad_messages": kad,
            "identify": ["description": "key 1 listening on 127.0.0.1:7650, seen from 127.0.0.1:50000", "bytes": Hex.encode(Identify.encode(identify))],
            "dht_record": ["key": record.key, "value": "/ip4/127.0.0.1/tcp/7650", "seq": 1, "signer_seed": "ledgerd test key 1", "encoded": Hex.encode(record.encoded)],
            "multistream": ["header": Hex.encode(Multistream.message(Multistream.header)), "noise": Hex.encode(Multistream.message("/noise")), "na": Hex.encode(Multistream.message("na"))],
        ]
    }

    @Test func vectorsMatchTheCode() throws {
        #expect(try checkVectors("p2p.json", try Self.vectors()), "specs/vectors/p2p.json differs from what the code computes")
    }

    @Test func vectorsRoundTrip() throws {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("specs/vectors/p2p.json"))
        let vectors = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for entry in vectors["multiaddrs"] as? [[String: String]] ?? [] {
            #expect(try Multiaddr(bytes: Hex.decode(entry["bytes"]!)!).description == entry["text"]!)
        }
        for entry in vectors["peer_ids"] as? [[String: String]] ?? [] {
            let peer = try #require(PeerID(entry["peer_id"]!))
            #expect(peer.ledgerID?.text == entry["ledger_id"])
        }
        let record = try #require(vectors["dht_record"] as? [String: Any])
        #expect(throws: Never.self) { try DHTRecord(encoded: Hex.decode(record["encoded"] as! String)!, expectedKey: record["key"] as! String) }
    }
}
