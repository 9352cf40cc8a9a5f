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
            "foreign_keys": try foreignKeys(),
            "peer_ids": peers, "multiaddrs": multiaddrs, "noise_xx": noise, "yamux_headers": yamux, "kad_messages": kad,
            "identify": ["description": "key 1 listening on 127.0.0.1:7650, seen from 127.0.0.1:50000", "bytes": Hex.encode(Identify.encode(identify))],
            "dht_record": ["key": record.key, "value": "/ip4/127.0.0.1/tcp/7650", "seq": 1, "signer_seed": "ledgerd test key 1", "encoded": Hex.encode(record.encoded)],
            "multistream": ["header": Hex.encode(Multistream.message(Multistream.header)), "noise": Hex.encode(Multistream.message("/noise")), "na": Hex.encode(Multistream.message("na"))],
            "gossipsub": gossipsub(keys[0]),
            "transaction_batch": transactionBatch(keys[0], keys[1]),
            "bitswap": bitswap(),
        ]
    }

    /// A Bitswap 1.2.0 message (specs/p2p.md §Bitswap) with every field: a want-have with send-DONT_HAVE,
    /// a cancel, the full flag, a raw block with its prefix, and a DONT_HAVE presence.
    static func bitswap() -> [String: Any] {
        let hello = (try? CID(text: "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")) ?? CID.raw([])
        let data = Array("x".utf8), raw = CID.raw(data)
        let message = BitswapMessage(entries: [.init(cid: hello.bytes, priority: 1, wantType: .have, sendDontHave: true),
                                               .init(cid: raw.bytes, priority: 2, cancel: true)],
                                     full: true, blocks: [.init(prefix: BitswapMessage.prefix(of: raw), data: data)], presences: [(hello.bytes, .dontHave)])
        return ["description": "want-have of hello world's CID with send-DONT_HAVE, a cancel of a raw block, full want-list; that raw block; DONT_HAVE for hello",
                "message_hex": Hex.encode(message.bytes),
                "entries": [["cid": hello.text, "priority": 1, "want_type": 1, "send_dont_have": true, "cancel": false],
                            ["cid": raw.text, "priority": 2, "want_type": 0, "send_dont_have": false, "cancel": true]],
                "full": true,
                "blocks": [["prefix_hex": Hex.encode(BitswapMessage.prefix(of: raw)), "data_hex": Hex.encode(data), "cid": raw.text]],
                "presences": [["cid": hello.text, "type": 1]]]
    }

    @Test func theBitswapVectorDecodesToItsFields() throws {
        let vector = try #require(try Self.vectors()["bitswap"] as? [String: Any])
        let decoded = try BitswapMessage(bytes: try #require(Hex.decode(vector["message_hex"] as? String ?? "")), maxEntries: 16)
        #expect(decoded.entries.map { (try? CID(bytes: $0.cid))?.text } == (vector["entries"] as? [[String: Any]])?.map { $0["cid"] as? String })
        #expect(decoded.full && decoded.entries[0].wantType == .have && decoded.entries[0].sendDontHave && decoded.entries[1].cancel)
        #expect(try decoded.blocks.map { try BitswapMessage.cid(prefix: $0.prefix, data: $0.data)?.text } == [CID.raw(Array("x".utf8)).text])
        #expect(decoded.presences.map(\.type) == [.dontHave])
    }

    /// The data of a `ledgerd/G/tx` message carrying two transfers (specs/p2p.md §7): a CBOR array of
    /// their envelope encodings as byte strings.
    static func transactionBatch(_ payer: SecretKey, _ payee: SecretKey) -> [String: Any] {
        let transfers = (0..<2).map { nonce in
            SignedTransaction(transaction: Transaction(chain: "ledgerd-vectors", type: TransferRule.type, signers: [payer.publicKey, payee.publicKey],
                                                       nonce: UInt64(nonce), expiry: 1_000, body: TransferRule.body(to: payee.publicKey.id, amount: 5)),
                              keys: [payer, payee]).encoded
        }
        return ["description": "two transfers of 5 from key 1 to key 2, nonces 0 and 1", "transactions": transfers.map(Hex.encode),
                "data": Hex.encode(LedgerPeers.message(of: transfers))]
    }

    @Test func aTransactionBatchVectorDecodesToItsTransactions() throws {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("specs/vectors/p2p.json"))
        let vector = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["transaction_batch"] as? [String: Any])
        let transactions = try #require((vector["transactions"] as? [String])?.compactMap(Hex.decode))
        let bytes = try #require(Hex.decode(vector["data"] as? String ?? ""))
        let items = try #require(LedgerPeers.transactions(in: bytes))
        #expect(items == transactions && transactions.count == 2)
        #expect(try items.map { try SignedTransaction.decodeUntrusted($0) }.allSatisfy { $0.signaturesAreValid() })
    }

    /// The RSA and ECDSA P-256 test keys published in libp2p's peer-ids spec. ledgerd cannot sign with them
    /// (it only verifies such keys), so the private keys and signatures are taken from the file, where
    /// Tests/p2p/p2p_vectors.py derives them; what the code computes (key encoding, peer ID, message) must match.
    /// A StrictSign message by key 1 and an RPC carrying a subscription, it and a control message.
    static func gossipsub(_ key: SecretKey) -> [String: Any] {
        let topic = "ledgerd/" + String(repeating: "00", count: 32) + "/tx"
        let message = PubsubMessage.signed(by: key, topic: topic, data: Array("hello".utf8), seqno: 1)
        let rpc = PubsubRPC(subscriptions: [.init(subscribe: true, topic: topic)], messages: [message],
                            control: .init(ihave: [(topic, [message.id])], iwant: [], graft: [topic], prune: [(topic, UInt64(60))]))
        return ["author_seed": "ledgerd test key 1", "topic": topic, "data": "hello", "seqno": 1,
                "signed_bytes": Hex.encode(PubsubMessage.signaturePrefix + message.encoded(withSignature: false)),
                "message": Hex.encode(message.encoded(withSignature: true)), "message_id": Hex.encode(message.id), "rpc": Hex.encode(rpc.encoded())]
    }

    @Test func gossipsubMessagesSignDecodeAndRefuseTampering() throws {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("specs/vectors/p2p.json"))
        let vector = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let gossip = try #require(vector["gossipsub"] as? [String: Any])
        let encoded = try #require(Hex.decode(gossip["rpc"] as? String ?? ""))
        let rpc = try PubsubRPC(decoding: encoded)
        #expect(rpc.encoded() == encoded, "decode and encode round-trip")
        let message = try #require(rpc.messages.first)
        #expect(message.verifies && Hex.encode(message.id) == gossip["message_id"] as? String && rpc.control.graft == [message.topic])
        var tampered = message
        tampered.data = Array("hellp".utf8)
        #expect(!tampered.verifies, "a changed message no longer verifies")
        var unsigned = message
        unsigned.signature = nil
        #expect(!unsigned.verifies, "StrictSign: an unsigned message is refused")
        var shortSeqno = message
        shortSeqno.seqno = [1]
        #expect(!shortSeqno.verifies)
        // Bounds: more message IDs than allowed are cut (go-libp2p-pubsub may batch), never a crash.
        var writer = ProtobufWriter()
        var control = ProtobufWriter()
        var iwant = ProtobufWriter()
        for n in 0...PubsubRPC.idsMax { iwant.bytes(1, [UInt8(n & 0xff)]) }
        control.bytes(2, iwant.bytes)
        writer.bytes(3, control.bytes)
        #expect(try PubsubRPC(decoding: writer.bytes).control.iwant.count == PubsubRPC.idsMax)
        for cut in stride(from: 1, to: encoded.count, by: 7) {
            _ = try? PubsubRPC(decoding: Array(encoded.prefix(cut)))  // truncated: refused or partial, never a trap
        }
    }

    static func foreignKeys() throws -> [[String: Any]] {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("specs/vectors/p2p.json"))
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let message = NoiseHandshake.signaturePrefix + NoiseCrypto.x25519Public(Self.secret("noise initiator static"))
        return try (file["foreign_keys"] as? [[String: String]] ?? []).map { entry in
            let key = try LibP2PKey(protobuf: try #require(Hex.decode(entry["public_key_protobuf"] ?? "")))
            let peer = PeerID(key: key)
            return ["type": entry["type"] ?? "", "source": entry["source"] ?? "", "private_key_protobuf": entry["private_key_protobuf"] ?? "",
                    "public_key_protobuf": Hex.encode(key.protobuf), "peer_id_hex": Hex.encode(peer.bytes), "peer_id": peer.description,
                    "message": Hex.encode(message), "signature": entry["signature"] ?? ""]
        }
    }

    /// RSA (4,096 bits) and ECDSA P-256 identities: the key parses, its peer ID is the SHA-256 multihash, the
    /// published key's signature verifies (in the Noise payload check too), and any change breaks it. Before
    /// part 5 the key protobufs failed to parse ("key type 0 is not supported").
    @Test func rsaAndECDSAIdentitiesVerify() throws {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent("specs/vectors/p2p.json"))
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(file["foreign_keys"] as? [[String: String]])
        #expect(Set(entries.compactMap { $0["type"] }) == ["rsa", "ecdsa_p256"])
        for entry in entries {
            let key = try LibP2PKey(protobuf: try #require(Hex.decode(entry["public_key_protobuf"]!)))
            let message = try #require(Hex.decode(entry["message"]!)), signature = try #require(Hex.decode(entry["signature"]!))
            #expect(key.verify(signature: signature, message: message), "\(key.typeName) signature")
            var forged = signature
            forged[forged.count / 2] ^= 1
            #expect(!key.verify(signature: forged, message: message))
            #expect(!key.verify(signature: signature, message: message + [0]))
            #expect(!key.verify(signature: [], message: message))
            let peer = try #require(PeerID(entry["peer_id"]!))
            #expect(peer == PeerID(key: key) && peer.bytes.prefix(2) == [0x12, 0x20] && peer.description.hasPrefix("Qm"))
            #expect(peer.ledgerID == nil)

            // The same key and signature as a Noise identity payload, checked as the handshake checks it.
            var handshake = NoiseHandshake(initiator: false, identity: testKey(1))
            handshake.remoteStatic = NoiseCrypto.x25519Public(Self.secret("noise initiator static"))
            var payload = ProtobufWriter()
            payload.bytes(1, key.protobuf)
            payload.bytes(2, signature)
            try handshake.checkPayload(payload.bytes)
            #expect(handshake.remotePeer == peer)
            handshake.remoteStatic = NoiseCrypto.x25519Public(Self.secret("another static key"))
            #expect(throws: WireError.self) { try handshake.checkPayload(payload.bytes) }
        }
    }

    /// Keys outside what is accepted are refused with a reason, never trapped on.
    @Test func weakOrForeignCurveKeysAreRefused() throws {
        func protobuf(_ type: UInt64, _ hex: String) -> [UInt8] {
            var writer = ProtobufWriter()
            writer.varint(1, type)
            writer.bytes(2, Hex.decode(hex)!)
            return writer.bytes
        }
        let rsa1024 = "30819f300d06092a864886f70d010101050003818d0030818902818100cf3cc69cff68dcff2c547efc354c284f7999571cb95aa02e8f552667dabe3b120df0ad48b620ed1e4527de3523fd473e39b7b694b60508dd6e0257ae7219751584d4193a7b1d486ed1689957e9b4f0d7c865d13f717d75eb3916404c299d200393c4bc47ee42f2eb1fc88df0d5bdaa7386786669e1012347dd45182b66f137df0203010001"
        let p384 = "3076301006072a8648ce3d020106052b8104002203620004304433a14661fafa00dc7d887bfac4272def7933308cd81d9e74cc392719aae70ed3df8a5b08767dce236d4028dbbcbda3ca38246308e12fbf755a58d68e7436f8483215759e94a8aa360faaaa7f76011c3d3735d5db7f59273843f0ec80525c"
        let cases: [([UInt8], String)] = [
            (protobuf(0, rsa1024), "1024 bits"),
            (protobuf(0, p384), "not a DER SubjectPublicKeyInfo"),  // an EC key under the RSA type
            (protobuf(3, p384), "P-256"),
            (protobuf(3, rsa1024), "P-256"),
            (protobuf(0, "3003020100"), "not a DER SubjectPublicKeyInfo"),
            (protobuf(0, rsa1024 + "00"), "not a DER SubjectPublicKeyInfo"),  // trailing bytes
            (protobuf(4, "00"), "not supported"),
        ]
        for (bytes, reason) in cases {
            #expect { try LibP2PKey(protobuf: bytes) } throws: { "\($0)".contains(reason) }
        }
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

/// A stranger's RPCs about topics this node does not follow leave nothing behind: no subscription, no
/// backoff, no promise (a PRUNE for a made-up topic once grew the backoff table without bound).
@Suite struct GossipsubFootprintTests {
    @Test func rpcsAboutOtherTopicsStoreNothing() async throws {
        let swarm = try await SwarmTests.swarm(54)
        let pubsub = Gossipsub(swarm: swarm, logger: .quiet("ledgerd.test"))
        await pubsub.subscribe("ours") { _, _ in .accept }
        let stranger = testKey(55).peerID
        for round in 0..<50 {
            let topics = (0..<64).map { "made-up-\(round)-\($0)" }
            let rpc = PubsubRPC(subscriptions: topics.map { .init(subscribe: true, topic: $0) },
                                control: .init(ihave: [(topics[0], (0..<100).map { [UInt8(truncatingIfNeeded: $0), UInt8(round)] })], iwant: [], graft: [],
                                               prune: topics.map { ($0, UInt64(3_600)) }))
            await pubsub.handle(try PubsubRPC(decoding: rpc.encoded()), from: stranger)
        }
        let footprint = await pubsub.footprint()
        #expect(footprint.topics == 0 && footprint.backoffTopics == 0 && footprint.promises == 0, "\(footprint)")
        // An over-long topic is dropped at decoding.
        let long = PubsubRPC(subscriptions: [.init(subscribe: true, topic: String(repeating: "x", count: PubsubRPC.topicBytesMax + 1))])
        #expect(try PubsubRPC(decoding: long.encoded()).subscriptions.isEmpty)
        await swarm.stop()
    }
}
