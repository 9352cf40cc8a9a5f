import Credit
import Ledger

/// The search's transaction generator: one builder per transaction type, each choosing its parties
/// from the small pool (so they collude) and its numbers from the boundaries.
extension AdversarialSearch {
    // MARK: - Choices

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func account() -> SecretKey {
        if chance(3) { return testKey(990) }  // a stranger with no balance
        return accounts.randomElement(using: &random) ?? accounts[0]
    }

    mutating func otherAccount(than key: SecretKey) -> SecretKey {
        if chance(3) { return key }  // self-reference, which every rule must refuse or handle
        var other = account()
        for _ in 0..<4 where other.publicKey == key.publicKey { other = account() }
        return other
    }

    mutating func amount(upTo typical: UInt64 = 1 << 24) -> UInt64 {
        switch Int.random(in: 0..<12, using: &random) {
        case 0: return 0
        case 1: return 1
        case 2: return .max
        case 3: return .max - 1
        case 4: return 1 << 63
        case 5: return 1 << 32
        case 6: return UInt64.random(in: 0...UInt64.max, using: &random)
        default: return UInt64.random(in: 1...max(typical, 1), using: &random)
        }
    }

    mutating func small(_ range: ClosedRange<UInt64>) -> UInt64 {
        chance(10) ? [0, 1, .max, 1 << 32].randomElement(using: &random) ?? 0 : UInt64.random(in: range, using: &random)
    }

    mutating func known(_ kind: String) -> ID {
        if chance(5) { return ID(bytes: random.bytes(20)) ?? accounts[0].publicKey.id }
        return known[kind]?.randomElement(using: &random) ?? ID(bytes: random.bytes(20)) ?? accounts[0].publicKey.id
    }

    mutating func organization() -> ID {
        let key = known(Organization.kind)
        if let profile = state.record(Organization.self, at: key) { return profile.id }
        return organizationKeys.randomElement(using: &random)?.publicKey.id ?? key
    }

    /// Someone holding `role` in the organization (or anyone, now and then): colluding insiders.
    mutating func insider(_ organization: ID, _ roles: Set<Role>) -> SecretKey {
        guard chance(85) else { return account() }
        refreshCache()
        let holders = cachedMemberships.filter { $0.organization == organization && roles.contains($0.role) }.map(\.person)
        guard let person = holders.randomElement(using: &random) else { return account() }
        return accounts.first { $0.publicKey.id == person } ?? account()
    }

    mutating func role() -> Role { [Role.member, .member, .guest, .supervisor, .applicant].randomElement(using: &random) ?? .member }

    mutating func text(_ bytesMax: Int) -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return ""
        case 1: return String(repeating: "x", count: bytesMax)
        case 2: return String(repeating: "y", count: bytesMax + 1)
        case 3: return "K"
        case 4: return "\u{212A}"  // KELVIN SIGN: canonically equal to "K", other bytes
        default: return "ref-\(Int.random(in: 0..<4, using: &random))"
        }
    }

    // MARK: - Signing

    mutating func sign(_ type: String, _ body: CBOR, _ keys: [SecretKey]) -> SignedTransaction {
        let origin = keys[0].publicKey.id
        var nonce = nonces[origin, default: 0]
        if chance(5) { nonce = nonce &+ (chance(50) ? 1 : UInt64.max) }  // a future nonce, or a replayed one
        var expiry = UInt64.max
        if chance(4) { expiry = header.pulse &+ UInt64.random(in: 0...2, using: &random) }
        let tx = Transaction(chain: chance(1) ? "other-chain" : Self.chainID, type: type, signers: keys.map(\.publicKey), nonce: nonce, expiry: expiry, body: body)
        var signed = SignedTransaction(transaction: tx, keys: keys)
        if chance(2), var bytes = signed.signatures.first?.bytes {
            bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1
            if let forged = try? Signature(bytes: bytes) { signed.signatures[0] = forged }
        }
        return signed
    }

    // MARK: - Transactions

    mutating func makeTransaction() -> SignedTransaction {
        let builders: [(inout AdversarialSearch) -> SignedTransaction] = [
            { $0.transfer() }, { $0.transfer() }, { $0.organizationCreate() }, { $0.membership() }, { $0.membership() },
            { $0.tokenTransfer() }, { $0.contribute() }, { $0.income() }, { $0.propose() }, { $0.vote() }, { $0.vote() },
            { $0.claimOperation() }, { $0.creditLine() }, { $0.creditLine() }, { $0.pay() }, { $0.net() }, { $0.iou() },
            { $0.settlement() }, { $0.settlement() }, { $0.settlement() }, { $0.storage() }, { $0.storage() }, { $0.storage() },
            { $0.forward() }, { $0.garbage() },
        ]
        let builder = builders.randomElement(using: &random) ?? { $0.transfer() }
        return builder(&self)
    }

    mutating func transfer() -> SignedTransaction {
        let payer = account(), payee = otherAccount(than: payer)
        let signers = chance(5) ? [payer] : [payer, chance(5) ? account() : payee]
        return sign(TransferRule.type, TransferRule.body(to: payee.publicKey.id, amount: amount(upTo: 1 << 30)), signers)
    }

    mutating func policy() -> CBOR {
        var operation: (perPulse: UInt64, cap: UInt64, end: UInt64, account: ID)? = nil
        if chance(40) { operation = (small(0...100), small(0...10_000), header.pulse &+ small(0...500), account().publicKey.id) }
        return Governance.policy(approvals: small(0...3), voting: chance(50) ? .member : .token, quorumPPM: small(0...1_000_001),
                                 thresholdPPM: small(0...1_000_001), remainder: account().publicKey.id, operation: operation)
    }

    mutating func contract() -> CBOR { consensusContract().rules }

    mutating func consensusContract() -> ConsensusContract {
        var splits: [ConsensusContract.Split] = []
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let target: ConsensusContract.Split.Target = chance(50) ? .role([Role.supervisor, .member, .guest].randomElement(using: &random) ?? .member)
                : .member(account().publicKey.id)
            splits.append(.init(target, ppm: small(0...600_000)))
        }
        return ConsensusContract(organization: accounts[0].publicKey.id, version: 0, splits: splits, proRataPPM: small(0...400_000),
                                 valueChainPPM: small(0...300_000), adoptedHeight: 0)
    }

    mutating func organizationCreate() -> SignedTransaction {
        let founder = account(), key = organizationKeys.randomElement(using: &random) ?? organizationKeys[0]
        let body = OrganizationRules.createBody(name: text(Organization.nameBytesMax), description: text(8), contract: chance(50) ? nil : consensusContract(),
                                                policy: chance(50) ? nil : policy())
        return sign(OrganizationRules.create, body, chance(5) ? [founder] : [founder, key])
    }

    mutating func membership() -> SignedTransaction {
        let org = organization()
        let choice = Int.random(in: 0..<7, using: &random)
        let actor = [1, 2, 6].contains(choice) ? insider(org, [.supervisor]) : choice == 5 ? insider(org, [.member, .supervisor]) : account()
        let person = choice == 1 || choice == 2 ? insider(org, [.applicant]) : chance(30) ? actor : insider(org, [.guest, .member, .supervisor])
        let named: Role? = chance(50) ? role() : nil
        switch choice {
        case 0: return sign(OrganizationRules.join, OrganizationRules.joinBody(organization: org, role: named), [actor])
        case 1: return sign(OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: person.publicKey.id, role: named), [actor])
        case 2: return sign(OrganizationRules.reject, OrganizationRules.memberBody(organization: org, person: person.publicKey.id), [actor])
        case 3: return sign(OrganizationRules.role, OrganizationRules.memberBody(organization: org, person: person.publicKey.id, role: role()), [actor])
        case 4: return sign(OrganizationRules.leave, OrganizationRules.organizationBody(org), [actor])
        case 5:
            let introduced = otherAccount(than: actor)
            return sign(OrganizationRules.introduce, OrganizationRules.memberBody(organization: org, person: introduced.publicKey.id, role: named),
                        chance(10) ? [actor] : [actor, chance(10) ? account() : introduced])
        default: return sign(OrganizationRules.remove, OrganizationRules.memberBody(organization: org, person: person.publicKey.id), [actor])
        }
    }

    mutating func tokenTransfer() -> SignedTransaction {
        let from = account(), to = otherAccount(than: from)
        return sign(EconomyRules.tokenTransfer, EconomyRules.tokenTransferBody(organization: organization(), to: to.publicKey.id, amount: amount(upTo: 2_000)),
                    [from, to])
    }

    mutating func contribute() -> SignedTransaction {
        sign(EconomyRules.contribute, EconomyRules.contributeBody(organization: organization(), reference: text(Contribution.referenceBytesMax),
                                                                  contributor: account().publicKey.id, role: "collector", weight: small(0...10)),
             [insider(organization(), [.supervisor])])
    }

    mutating func income() -> SignedTransaction {
        sign(EconomyRules.income, EconomyRules.incomeBody(organization: organization(), amount: amount(upTo: 1 << 20), reference: text(16)), [account()])
    }

    mutating func propose() -> SignedTransaction {
        let org = organization()
        let kind = Proposal.Kind.allCases.randomElement(using: &random) ?? .reward
        let payload: CBOR
        switch kind {
        case .reward: payload = EconomyRules.rewardPayload(recipient: account().publicKey.id, amount: amount(upTo: 1_000), reason: text(8), proof: "p")
        case .contract: payload = contract()
        case .role: payload = EconomyRules.rolePayload(person: account().publicKey.id, role: role())
        case .policy: payload = policy()
        }
        return sign(EconomyRules.propose, EconomyRules.proposeBody(organization: org, kind: kind, payload: payload, duration: small(1...400)),
                    [insider(org, [.member, .supervisor])])
    }

    mutating func vote() -> SignedTransaction {
        refreshCache()
        let proposal = chance(80) ? cachedOpenProposals.randomElement(using: &random) : state.record(Proposal.self, at: known(Proposal.kind))
        let org = proposal?.organization ?? organization()
        return sign(EconomyRules.vote, EconomyRules.voteBody(organization: org, proposal: proposal?.sequence ?? small(0...3), yes: chance(70)),
                    [insider(org, [.member, .supervisor, .guest])])
    }

    mutating func claimOperation() -> SignedTransaction {
        let org = organization()
        return sign(EconomyRules.claimOperation, EconomyRules.organizationBody(org), [insider(org, [.supervisor])])
    }

    mutating func creditLine() -> SignedTransaction {
        let grantor = account(), grantee = otherAccount(than: grantor)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return sign(LineRules.revoke, LineRules.revokeBody(to: grantee.publicKey.id), [grantor])
        default:
            var terms = LineRules.Terms(to: grantee.publicKey.id, limit: amount(upTo: 1 << 24), expiry: chance(80) ? .max : header.pulse &+ small(0...30),
                                        allowRipple: chance(60))
            if chance(20) { (terms.increment, terms.period, terms.cap) = (small(0...1000), small(0...10), amount(upTo: 1 << 24)) }
            return sign(chance(50) ? LineRules.grant : LineRules.change, terms.body, [grantor])
        }
    }

    mutating func pay() -> SignedTransaction {
        let payer = account()
        let via = (0..<Int.random(in: 0...2, using: &random)).map { _ in account().publicKey.id }
        return sign(PaymentRule.type, PaymentRule.body(to: otherAccount(than: payer).publicKey.id, amount: amount(upTo: 1 << 22), via: via), [payer])
    }

    mutating func net() -> SignedTransaction {
        let lines = (known[CreditLine.kind] ?? []).compactMap { state.record(CreditLine.self, at: $0) }
        var cycles = Netting.findCycles(Netting.debts(of: lines), cyclesMax: 4)
        if cycles.isEmpty || chance(30) {
            // A made-up cycle, or a real one claiming more than is owed.
            let nodes = (0..<Int.random(in: 1...3, using: &random)).map { _ in account().publicKey.id }
            cycles = [Netting.Cycle(nodes: nodes, amount: amount(upTo: 1 << 20))]
        }
        return sign(Netting.type, Netting.body(cycles), [account()])
    }

    mutating func iou() -> SignedTransaction {
        let borrower = account()
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return sign(IOURules.issue, IOURules.issueBody(lender: otherAccount(than: borrower).publicKey.id, amount: amount(upTo: 1 << 22), memo: text(8)), [borrower])
        case 1: return sign(IOURules.repay, IOURules.repayBody(iou: known(IOU.kind), amount: amount(upTo: 1 << 22)), [borrower])
        default: return sign(IOURules.transfer, IOURules.transferBody(iou: known(IOU.kind), to: account().publicKey.id), [borrower])
        }
    }

    /// Receipts signed by the consumer (or by someone else), acknowledgements by the provider (or not),
    /// for streams that exist, with units and sequences around what is settled.
    mutating func settlement() -> SignedTransaction {
        let existing = state.record(Settlement.self, at: known(Settlement.kind))
        let provider = existing.flatMap { id in accounts.first { $0.publicKey.id == id.provider } } ?? account()
        let consumer = existing.flatMap { id in accounts.first { $0.publicKey.id == id.consumer } } ?? otherAccount(than: provider)
        let settledUnits = existing?.units ?? 0, settledSequence = existing?.sequence ?? 0
        let choices: [UInt64] = [settledUnits, settledUnits &+ 1, settledUnits &- 1, settledUnits &+ UInt64.random(in: 1...(1 << 20), using: &random), amount(upTo: 1 << 22)]
        let units = choices.randomElement(using: &random) ?? 0
        let sequences: [UInt64] = [settledSequence, settledSequence &+ 1, settledSequence &- 1, UInt64.max, small(0...5)]
        let sequence = sequences.randomElement(using: &random) ?? 0
        let receipt = UsageReceipt(chain: Self.chainID, provider: provider.publicKey.id, consumer: consumer.publicKey.id, service: .bandwidth,
                                   sequence: sequence, units: units)
        let submitter = chance(50) ? provider : consumer
        switch Int.random(in: 0..<5, using: &random) {
        case 0, 1:
            let signed = SignedReceipt(receipt: receipt, key: chance(90) ? consumer : provider)
            return sign(SettlementRules.settle, SettlementRules.body(signed), [submitter])
        case 2:
            let signed = SignedReceipt(receipt: receipt, key: chance(90) ? consumer : provider)
            return sign(SettlementRules.dispute, SettlementRules.body(signed), [submitter])
        case 3:
            let ack = ReceiptAcknowledgement(receipt: receipt, providerKey: chance(90) ? provider : consumer)
            return sign(SettlementRules.dispute, SettlementRules.disputeBody(acknowledgement: ack), [submitter])
        default:
            return sign(SettlementRules.finalize, SettlementRules.finalizeBody(stream: receipt.streamKey), [account()])
        }
    }

    mutating func storage() -> SignedTransaction {
        refreshCache()
        let existing = chance(80) ? cachedOpenStorage.randomElement(using: &random) : state.record(StorageContract.self, at: known(StorageContract.kind))
        let id = existing?.id ?? known(StorageContract.kind)
        let payer = existing.flatMap { c in accounts.first { $0.publicKey.id == c.payer } } ?? account()
        let provider = existing.flatMap { c in accounts.first { $0.publicKey.id == c.provider } } ?? otherAccount(than: payer)
        let leaves = StorageContract.segmentLeaves(content)
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            let terms = StorageRules.Terms(provider: provider.publicKey.id, cid: "QmFuzz", size: chance(90) ? UInt64(content.count) : amount(),
                                           root: MerkleList.root(leaves), periodPulses: small(1...300), periods: small(1...6), deposit: amount(upTo: 1 << 16),
                                           pricePerGiBDay: chance(50) ? nil : amount(upTo: 1 << 40))
            return sign(StorageRules.create, terms.body, chance(5) ? [payer] : [payer, provider])
        case 1: return sign(StorageRules.challenge, StorageRules.contractBody(id), [chance(90) ? payer : provider])
        case 2:
            let index = Int(existing?.challengeIndex ?? 0) % max(leaves.count, 1)
            var segment = Array(content[(index * StorageContract.segmentBytes)..<min((index + 1) * StorageContract.segmentBytes, content.count)])
            if chance(10), !segment.isEmpty { segment[0] ^= 1 }
            return sign(StorageRules.prove, StorageRules.proveBody(contract: id, segment: segment, path: MerkleList.path(index, leaves)), [chance(90) ? provider : payer])
        case 3, 4: return sign(StorageRules.claim, StorageRules.contractBody(id), [chance(50) ? payer : provider])
        default: return sign(StorageRules.end, StorageRules.contractBody(id), [chance(50) ? payer : provider])
        }
    }

    mutating func forward() -> SignedTransaction {
        let client = account(), relay = otherAccount(than: client)
        if chance(50) { return sign(ForwardRules.end, ForwardRules.endBody(contract: known(ForwardContract.kind)), [account()]) }
        return sign(ForwardRules.create, ForwardRules.createBody(relay: relay.publicKey.id, pricePPM: small(0...2_000_000)), [client, relay])
    }

    /// A well-signed transaction whose body is random CBOR, under a real type.
    mutating func garbage() -> SignedTransaction {
        let type = machine.types.randomElement(using: &random) ?? TransferRule.type
        var map: [String: CBOR] = [:]
        let keys = ["org", "to", "amount", "iou", "contract", "receipt", "ack", "stream", "role", "person", "kind", "payload", "cycles", "via", "K", "\u{212A}"]
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            let key = keys.randomElement(using: &random) ?? "x"
            map[key] = [CBOR.unsigned(amount()), .bytes(random.bytes(Int.random(in: 0...40, using: &random))), .text(text(4)), .null, .bool(chance(50)),
                        .array([.unsigned(1)]), .map([:]), .negative(1)].randomElement(using: &random) ?? .null
        }
        let signer = account()
        return sign(type, .map(map), chance(50) ? [signer] : [signer, otherAccount(than: signer)])
    }
}
