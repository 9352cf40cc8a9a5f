import Consensus
import Credit
import Foundation
import Testing
@testable import Ledger

/// The vectors in specs/vectors/ (ids, transactions, blocks, state tree) are what this code computes;
/// this test recomputes them and fails on any difference. Run with LEDGERD_WRITE_VECTORS=1 to rewrite
/// them after an intended format change (and say so in specs/).
@Suite struct SpecVectorTests {
    static let chain = "ledgerd-vectors"

    static func json(_ object: Any) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func check(_ name: String, _ object: Any) throws {
        let data = json(object) + Data("\n".utf8)
        let url = Repository.root.appendingPathComponent("specs/vectors/\(name)")
        if ProcessInfo.processInfo.environment["LEDGERD_WRITE_VECTORS"] == "1" { try data.write(to: url) }
        let stored = try Data(contentsOf: url)
        #expect(stored == data, "specs/vectors/\(name) differs from what the code computes")
    }

    /// Keys 1, 2, 3: secret = SHA256("ledgerd test key " + n), as the vectors state.
    static let keys = (1...3).map(testKey)

    @Test func ids() throws {
        let entries: [[String: Any]] = Self.keys.enumerated().map { index, key in
            [
                "secret_key": Hex.encode(key.bytes), "secret_key_seed": "ledgerd test key \(index + 1)", "public_key": key.publicKey.hex,
                "id_hex": Hex.encode(key.publicKey.id.bytes), "id": key.publicKey.id.text,
            ]
        }
        let derived: [[String: Any]] = [
            ["kind": "org", "parts": [Self.keys[0].publicKey.id.text], "id": Organization.stateKey(Self.keys[0].publicKey.id).text],
            ["kind": "member", "parts": [Self.keys[0].publicKey.id.text, Self.keys[1].publicKey.id.text],
             "id": Membership.stateKey(organization: Self.keys[0].publicKey.id, person: Self.keys[1].publicKey.id).text],
            ["kind": "line", "parts": [Self.keys[0].publicKey.id, Self.keys[1].publicKey.id].sorted().map(\.text),
             "id": CreditLine.stateKey(Self.keys[0].publicKey.id, Self.keys[1].publicKey.id).text],
            ["kind": "params", "parts": [String](), "id": ChainParameters.stateKey.text],
            ["kind": "bookkeepers", "parts": [String](), "id": BookkeeperSet.stateKey.text],
        ]
        // Derived IDs over parts that are not all IDs: each part as {"id": text}, {"u64": n} (8 bytes
        // big-endian) or {"text": s} (UTF-8), concatenated (specs/ids-and-signatures.md).
        let (first, second, third) = (Self.keys[0].publicKey.id, Self.keys[1].publicKey.id, Self.keys[2].publicKey.id)
        func part(_ form: String, _ value: Any) -> [String: Any] { [form: value] }
        let forwardStream = UsageReceipt(chain: Self.chain, provider: first, consumer: second, service: .forward, contract: third, sequence: 1, units: 1).streamKey
        let derivedData: [[String: Any]] = [
            ["kind": "iou", "parts": [part("id", second.text), part("u64", 7)], "id": IOU.stateKey(borrower: second, nonce: 7).text],
            ["kind": "orgcontract", "parts": [part("id", first.text), part("u64", 1)], "id": ConsensusContract.stateKey(first, version: 1).text],
            ["kind": "reference", "parts": [part("id", first.text), part("text", "video-42")],
             "id": Contribution.referenceID(organization: first, reference: "video-42").text],
            ["kind": "settlement", "parts": [part("id", first.text), part("id", second.text), part("text", "forward"), part("id", third.text)],
             "id": forwardStream.text],
        ]
        var typo = Array(Self.keys[0].publicKey.id.text)
        typo[10] = typo[10] == "q" ? "p" : "q"
        try Self.check("ids.json", [
            "keys": entries, "derived": derived, "derived_data": derivedData,
            "invalid_text": [
                ["text": String(typo), "why": "one character changed: checksum fails"],
                ["text": Self.keys[0].publicKey.id.text.uppercased().prefix(10) + Self.keys[0].publicKey.id.text.dropFirst(10), "why": "mixed case"],
                ["text": "bc1" + Self.keys[0].publicKey.id.text.dropFirst(3), "why": "wrong prefix (and checksum)"],
            ],
        ])
    }

    static func transactions() -> [(String, SignedTransaction)] {
        let (a, b, c) = (keys[0], keys[1], keys[2])
        func make(_ type: String, _ body: CBOR, _ signers: [SecretKey], nonce: UInt64 = 0) -> SignedTransaction {
            SignedTransaction(transaction: Transaction(chain: chain, type: type, signers: signers.map(\.publicKey), nonce: nonce, expiry: 3600, body: body), keys: signers)
        }
        return [
            ("transfer", make(TransferRule.type, TransferRule.body(to: b.publicKey.id, amount: 5 << 30), [a, b])),
            ("org.create", make(OrganizationRules.create, OrganizationRules.createBody(name: "Open Video", description: "videos by their makers"), [a, c], nonce: 1)),
            ("org.join", make(OrganizationRules.join, OrganizationRules.organizationBody(c.publicKey.id), [b])),
            ("org.approve", make(OrganizationRules.approve, OrganizationRules.memberBody(organization: c.publicKey.id, person: b.publicKey.id, role: .member), [a], nonce: 2)),
            ("org.role", make(OrganizationRules.role, OrganizationRules.memberBody(organization: c.publicKey.id, person: b.publicKey.id, role: .supervisor), [a], nonce: 3)),
            ("credit.grant", make(CreditRules.grant, CreditRules.lineBody(to: b.publicKey.id, limit: 10 << 30, expiry: 2_592_000), [a], nonce: 4)),
            ("credit.revoke", make(CreditRules.revoke, CreditRules.revokeBody(to: b.publicKey.id), [a], nonce: 5)),
        ]
    }

    @Test func transactions() throws {
        let entries: [[String: Any]] = Self.transactions().map { name, signed in
            [
                "name": name, "type": signed.transaction.type, "signer_ids": signed.transaction.signers.map(\.id.text),
                "unsigned_hex": Hex.encode(signed.transaction.encoded), "id": signed.id.hex,
                "signing_digest": signed.transaction.signingDigest.hex, "signatures": signed.signatures.map(\.hex),
                "signed_hex": Hex.encode(signed.encoded), "cid": CID.dagCBOR(signed.encoded).text,
            ]
        }
        try Self.check("transactions.json", ["chain": Self.chain, "signing": "BIP-340 with aux_rand = 32 zero bytes", "transactions": entries])
    }

    @Test func blocks() throws {
        // Two bookkeepers, so a certificate needs both (more than two thirds of 2).
        let bookkeepers = [Self.keys[2], Self.keys[1]]
        var genesis = Genesis.development(chainID: Self.chain, timeMillis: 1_795_000_000_000, bookkeeper: bookkeepers[0].publicKey,
                                          balances: [(Self.keys[0].publicKey.id, 1 << 40)])
        genesis.bookkeepers = bookkeepers.map(\.publicKey.hex)
        let built = try genesis.build()
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        let set = try #require(built.state.bookkeepers)
        var entries: [String: Any] = [
            "genesis_json": String(decoding: genesis.encodeJSON(), as: UTF8.self),
            "genesis_block": ["header_hex": Hex.encode(built.block.header.encoded), "hash": built.block.hash.hex,
                              "state_root": built.state.rootHash.hex, "block_hex": Hex.encode(built.block.encoded)],
            "bookkeepers_record_hex": Hex.encode(CBOREncoder.encode(set.cbor)), "bookkeepers_hash": set.hash.hex,
        ]
        var header = built.block.header, state = built.state
        var lastCommit: CommitCertificate?
        for (index, (transaction, time)) in [(Self.transactions()[0].1, UInt64(1_795_000_001_500)), (Self.transactions()[1].1, 1_795_000_002_500)].enumerated() {
            let proposal = try #require(Chain.propose([transaction], after: header, lastCommit: lastCommit, state: state, machine: machine,
                                                      timeMillis: time, proposer: bookkeepers[index % 2].publicKey.id))
            #expect(proposal.rejected.isEmpty)
            let block = proposal.block.certified(by: bookkeepers)
            let applied = try Chain.apply(block, after: header, state: state, machine: machine)
            let commit = try #require(block.commit)
            entries["block_\(index + 1)"] = [
                "header_hex": Hex.encode(block.header.encoded), "hash": block.hash.hex, "tx_root": block.header.transactionRoot.hex,
                "state_root": block.header.stateRoot.hex, "last_commit_hash": block.header.lastCommit.hex,
                "precommit_signing_digest": ConsensusVote.signingDigest(kind: .precommit, chain: Self.chain, height: block.height, round: 0,
                                                                        block: block.hash, timeMillis: block.header.timeMillis).hex,
                "commit_hex": Hex.encode(CBOREncoder.encode(commit.cbor)), "commit_hash": commit.hash.hex,
                "block_hex": Hex.encode(block.encoded),
            ]
            header = block.header
            state = applied.state
            lastCommit = commit
        }
        try Self.check("blocks.json", entries)
    }

    @Test func consensusMessages() throws {
        let (a, b) = (Self.keys[2], Self.keys[1])
        let block = SHA256.hash(Array("a block".utf8))
        let prevote = ConsensusVote(kind: .prevote, chain: Self.chain, height: 5, round: 1, block: block, timeMillis: 1_795_000_005_000, key: a)
        let nilPrecommit = ConsensusVote(kind: .precommit, chain: Self.chain, height: 5, round: 1, block: nil, timeMillis: 1_795_000_005_100, key: a)
        let conflicting = ConsensusVote(kind: .prevote, chain: Self.chain, height: 5, round: 1, block: nil, timeMillis: 1_795_000_005_000, key: a)
        let evidence = try #require(Equivocation(prevote, conflicting))
        func vote(_ vote: ConsensusVote) -> [String: Any] {
            ["signing_digest": vote.signingDigest.hex, "signature": vote.signature.hex, "message_hex": Hex.encode(ConsensusMessage.vote(vote).encoded)]
        }
        let genesis = try Genesis.development(chainID: Self.chain, timeMillis: 1_795_000_000_000, bookkeeper: a.publicKey,
                                              balances: [(Self.keys[0].publicKey.id, 1 << 40)]).build()
        let made = try #require(Chain.propose([Self.transactions()[0].1], after: genesis.block.header, lastCommit: nil, state: genesis.state,
                                              machine: StateMachine(rules: LedgerRules.all + CreditRules.all), timeMillis: 1_795_000_001_500,
                                              proposer: a.publicKey.id))
        let proposal = SignedProposal(round: 0, validRound: nil, block: made.block, key: a)
        let reproposal = SignedProposal(round: 3, validRound: 1, block: made.block, key: b)
        try Self.check("consensus.json", [
            "chain": Self.chain, "voter_public_key": a.publicKey.hex, "block": block.hex,
            "prevote": vote(prevote), "nil_precommit": vote(nilPrecommit),
            "evidence_hex": Hex.encode(ConsensusMessage.evidence(evidence).encoded), "evidence_hash": evidence.hash.hex,
            "proposal": ["signing_digest": SignedProposal.signingDigest(chain: Self.chain, height: 1, round: 0, validRound: nil, block: made.block.hash).hex,
                         "message_hex": Hex.encode(ConsensusMessage.proposal(proposal).encoded)],
            "reproposal_signing_digest": SignedProposal.signingDigest(chain: Self.chain, height: 1, round: 3, validRound: 1, block: made.block.hash).hex,
            "reproposal_signature": reproposal.signature.hex,
            "proposers_of_heights_1_to_8_for_keys_3_2": (1...8).map { height in
                BookkeeperSet(keys: [a.publicKey, b.publicKey]).proposer(height: UInt64(height), round: 0)?.hex ?? ""
            },
        ])
    }

    @Test func stateTree() throws {
        // Leaves chosen to exercise collapse, deep shared prefixes and deletion.
        var generator = SeededGenerator(seed: 340)
        var ids: [ID] = (0..<6).map { _ in ID(bytes: generator.bytes(20))! }
        var close = ids[0].bytes
        close[19] ^= 0x01  // differs from ids[0] only in the last bit
        ids.append(ID(bytes: close)!)
        let values: [CBOR] = ids.indices.map { Account(balance: UInt64($0 + 1) * 1000, nonce: UInt64($0)).cbor }
        var cases: [[String: Any]] = []
        var tree = SparseMerkleTree()
        var leaves: [(ID, CBOR)] = []
        for (id, value) in zip(ids, values) {
            tree = tree.updating([(id, SHA256.hash(CBOREncoder.encode(value)))])
            leaves.append((id, value))
            cases.append(["leaves": leaves.map { ["key": Hex.encode($0.0.bytes), "value_hex": Hex.encode(CBOREncoder.encode($0.1))] },
                          "root": tree.rootHash.hex])
        }
        let absent = ID(bytes: generator.bytes(20))!
        var proofs: [[String: Any]] = []
        for key in [ids[0], ids[6], ids[3], absent] {
            let proof = tree.proof(for: key)
            let outcome = try proof.verify(root: tree.rootHash)
            proofs.append(["key": Hex.encode(key.bytes), "root": tree.rootHash.hex, "proof_hex": Hex.encode(proof.encoded),
                           "depth": proof.depth, "outcome": outcome == .absent ? "absent" : "present"])
        }
        let deleted = tree.updating([(ids[6], nil)])
        try Self.check("state-tree.json", [
            "empty_root": SparseMerkleTree().rootHash.hex, "insertions": cases, "proofs": proofs,
            "after_deleting_last": ["key": Hex.encode(ids[6].bytes), "root": deleted.rootHash.hex],
        ])
    }
}

/// specs/vectors/credit.json: receipts, credit transactions, prices, segment proofs, challenges.
@Suite struct CreditVectorTests {
    @Test func credit() throws {
        let (a, b, c) = (testKey(1), testKey(2), testKey(3))
        let chain = SpecVectorTests.chain
        let receipt = UsageReceipt(chain: chain, provider: a.publicKey.id, consumer: b.publicKey.id, service: .bandwidth, sequence: 7, units: 5 << 20)
        let signedReceipt = SignedReceipt(receipt: receipt, key: b)
        let acknowledgement = ReceiptAcknowledgement(receipt: receipt, providerKey: a)
        func make(_ type: String, _ body: CBOR, _ signers: [SecretKey], nonce: UInt64 = 0) -> SignedTransaction {
            SignedTransaction(transaction: Transaction(chain: chain, type: type, signers: signers.map(\.publicKey), nonce: nonce, expiry: 3600, body: body), keys: signers)
        }
        let content: [UInt8] = (0..<5_000).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 8)) }
        let leaves = StorageContract.segmentLeaves(content)
        let root = MerkleList.root(leaves)
        let storageTerms = StorageRules.Terms(provider: b.publicKey.id, cid: "bafkreiexample", size: 5_000, root: root, periodPulses: 3600, periods: 24, deposit: 1 << 20)
        let transactions: [(String, SignedTransaction)] = [
            ("credit.grant", make(LineRules.grant, LineRules.Terms(to: b.publicKey.id, limit: 10 << 30, expiry: 2_592_000, increment: 1 << 30, period: 86_400, cap: 20 << 30, allowRipple: true).body, [a])),
            ("credit.pay", make(PaymentRule.type, PaymentRule.body(to: c.publicKey.id, amount: 100 << 20, via: [b.publicKey.id]), [a], nonce: 1)),
            ("credit.net", make(Netting.type, Netting.body([Netting.Cycle(nodes: [a.publicKey.id, b.publicKey.id, c.publicKey.id], amount: 300)]), [c])),
            ("iou.issue", make(IOURules.issue, IOURules.issueBody(lender: a.publicKey.id, amount: 300 << 20, memo: "content fee"), [b])),
            ("receipt.settle", make(SettlementRules.settle, SettlementRules.body(signedReceipt), [a], nonce: 2)),
            ("contract.storage.create", make(StorageRules.create, storageTerms.body, [a, b], nonce: 3)),
            ("contract.forward.create", make(ForwardRules.create, ForwardRules.createBody(relay: c.publicKey.id, pricePPM: 250_000), [a, c], nonce: 4)),
        ]
        let previous = SHA256.hash(Array("previous block".utf8))
        let contract = StorageContract.stateKey(payer: a.publicKey.id, provider: b.publicKey.id, nonce: 3)
        try SpecVectorTests.check("credit.json", [
            "chain": chain,
            "receipt": [
                "receipt_hex": Hex.encode(receipt.encoded), "signing_digest": receipt.signingDigest.hex, "signed_hex": Hex.encode(signedReceipt.encoded),
                "stream": receipt.streamKey.text, "consumer": b.publicKey.id.text, "provider": a.publicKey.id.text,
            ],
            // The provider's acknowledgement, and the receipt protocol's answer carrying it (specs/p2p.md §7.4).
            "acknowledgement": [
                "signing_digest": ReceiptAcknowledgement.signingDigest(receipt).hex, "ack_hex": Hex.encode(acknowledgement.encoded),
                "answer_hex": Hex.encode(CBOREncoder.encode(.map(["ack": .bytes(acknowledgement.encoded)]))),
            ],
            "transactions": transactions.map { name, signed in
                ["name": name, "unsigned_hex": Hex.encode(signed.transaction.encoded), "id": signed.id.hex,
                 "signatures": signed.signatures.map(\.hex)] as [String: Any]
            },
            "storage_price": ["size": 5_000, "price_per_gib_day": 1 << 40, "period_pulses": 3600, "pulses_per_day": 86_400,
                              "price": StorageContract.price(size: 5_000, pricePerGiBDay: 1 << 40, periodPulses: 3600, pulsesPerDay: 86_400)!],
            "forward_value": ["bytes": 1001, "price_ppm": 250_000,
                              "value": ForwardContract(id: contract, client: a.publicKey.id, relay: c.publicKey.id, pricePPM: 250_000, createdHeight: 0).value(ofBytes: 1001)!],
            "segments": ["content": "byte i is ((i × 31) xor (i >> 8)) mod 256, 5000 bytes", "root": root.hex, "index": 3,
                         "segment_hex": Hex.encode(content[3072..<4096]), "path": MerkleList.path(3, leaves).map(\.hex)],
            "challenge": ["previous_block_hash": previous.hex, "contract": contract.text, "period": 5, "segments": 5,
                          "index": StorageContract.challengeIndex(previousHash: previous, contract: contract, period: 5, segments: 5)],
        ])
    }
}

/// specs/vectors/organizations.json: a split by the rounding rule, and the new transaction types.
@Suite struct OrganizationVectorTests {
    @Test func organizations() throws {
        let people = (1...6).map { testKey($0).publicKey.id }.sorted()
        let contract = ConsensusContract(organization: testKey(50).publicKey.id, version: 1, splits: [
            .init(.member(people[5]), ppm: 123_457), .init(.role(.supervisor), ppm: 200_000), .init(.role(.member), ppm: 100_001),
        ], proRataPPM: 333_333, valueChainPPM: 111_111, adoptedHeight: 0)
        let inputs = Distribution.Inputs(income: 1_000_000_007, contract: contract,
                                         roles: [.supervisor: [people[0]], .member: [people[1], people[2], people[3]]],
                                         holders: [(people[1], 7), (people[2], 11), (people[4], 13)], contributors: [(people[3], 2), (people[4], 5)])
        let result = Distribution.compute(inputs)
        func make(_ type: String, _ body: CBOR, nonce: UInt64) -> SignedTransaction {
            SignedTransaction(transaction: Transaction(chain: SpecVectorTests.chain, type: type, signers: [testKey(1).publicKey], nonce: nonce, expiry: 3600, body: body),
                              keys: [testKey(1)])
        }
        let org = testKey(50).publicKey.id
        let transactions: [(String, SignedTransaction)] = [
            ("org.income", make(EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: 1 << 30, reference: "video-42"), nonce: 0)),
            ("org.propose", make(EconomyRules.propose, EconomyRules.proposeBody(organization: org, kind: .reward,
                                                                              payload: EconomyRules.rewardPayload(recipient: people[1], amount: 600, reason: "wrote the player", proof: "commit 4e1f"), duration: 604_800), nonce: 1)),
            ("org.vote", make(EconomyRules.vote, EconomyRules.voteBody(organization: org, proposal: 1, yes: true), nonce: 2)),
        ]
        try SpecVectorTests.check("organizations.json", [
            "split": [
                "income": inputs.income, "rules_hex": Hex.encode(CBOREncoder.encode(contract.rules)),
                "roles": ["supervisor": [people[0].text], "member": [people[1].text, people[2].text, people[3].text]],
                "holders": inputs.holders.map { [$0.0.text, $0.1] as [Any] }, "contributors": inputs.contributors.map { [$0.0.text, $0.1] as [Any] },
                "payouts": result.payouts.map { [$0.recipient.text, $0.amount] as [Any] }, "remainder": result.remainder, "payout_root": result.root.hex,
            ],
            "transactions": transactions.map { name, signed in
                ["name": name, "unsigned_hex": Hex.encode(signed.transaction.encoded), "id": signed.id.hex, "signatures": signed.signatures.map(\.hex)] as [String: Any]
            },
        ])
    }
}
