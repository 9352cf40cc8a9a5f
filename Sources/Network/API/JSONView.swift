import Credit
import Foundation
import Ledger

/// How ledger objects look in the HTTP API's JSON (specs/openapi.yaml). IDs are in their `ld1…` text
/// form, hashes and keys in hex, amounts as JSON integers; every object carries its ID as `"id"`.
public enum JSONView {
    public static func header(_ header: BlockHeader) -> [String: Any] {
        [
            "id": header.hash.hex, "hash": header.hash.hex, "chain": header.chain, "height": header.height, "pulse": header.pulse,
            "time_ms": header.timeMillis, "previous": header.previous.hex, "tx_root": header.transactionRoot.hex,
            "state_root": header.stateRoot.hex, "proposer": header.proposer.text, "tx_count": header.transactionCount,
            "last_commit_hash": header.lastCommit.hex, "bookkeepers_hash": header.bookkeepers.hex,
            "next_bookkeepers_hash": header.nextBookkeepers.hex, "evidence_root": header.evidenceRoot.hex, "cid": CID.dagCBOR(header.encoded).text,
        ]
    }

    /// A commit certificate: its fields, each precommit, and its canonical encoding (hex), whose
    /// TaggedHash("ledgerd/commit", …) the next header's `last_commit_hash` holds.
    public static func certificate(_ certificate: CommitCertificate?) -> Any {
        guard let certificate else { return NSNull() }
        return [
            "height": certificate.height, "round": certificate.round, "block": certificate.block.hex, "hash": certificate.hash.hex,
            "encoded": Hex.encode(CBOREncoder.encode(certificate.cbor)),
            "votes": certificate.signers.map { ["bookkeeper": $0.key.id.text, "public_key": $0.key.hex, "time_ms": $0.timeMillis, "signature": $0.signature.hex] },
        ] as [String: Any]
    }

    /// What a block paid its bookkeepers: the reward it minted, the fees its transactions paid, and each
    /// bookkeeper's share, by the same function the rule uses (`MiningReward.payout`).
    public static func rewards(_ block: Block, parameters: ChainParameters?, paidBy sets: (certifiedBy: BookkeeperSet, starting: BookkeeperSet)?) -> [String: Any] {
        guard let parameters, let sets else { return ["minted": 0, "fees": 0, "shares": [Any]()] }
        let payout = MiningReward.payout(of: block, parameters: parameters, certifiedBy: sets.certifiedBy, startingSet: sets.starting)
        return ["minted": payout.minted, "fees": payout.fees, "shares": payout.shares.map { ["bookkeeper": $0.bookkeeper.text, "amount": $0.amount] }]
    }

    public static func block(_ block: Block, parameters: ChainParameters? = nil, paidBy sets: (certifiedBy: BookkeeperSet, starting: BookkeeperSet)? = nil) -> [String: Any] {
        var view = header(block.header)
        view["rewards"] = rewards(block, parameters: parameters, paidBy: sets)
        view["evidence"] = block.evidence.map { piece -> [String: Any] in
            ["bookkeeper": piece.voter.id.text, "height": piece.first.height, "round": piece.first.round, "type": piece.first.kind.rawValue,
             "hash": piece.hash.hex, "encoded": Hex.encode(CBOREncoder.encode(piece.cbor))]
        }
        view["transactions"] = block.transactions.map { transaction($0) }
        view["commit"] = certificate(block.commit)
        view["last_commit"] = certificate(block.lastCommit)
        return view
    }

    public static func transaction(_ signed: SignedTransaction, height: UInt64? = nil, position: Int? = nil) -> [String: Any] {
        let tx = signed.transaction
        var view: [String: Any] = [
            "id": signed.id.hex, "type": tx.type, "chain": tx.chain, "origin": tx.origin.text, "nonce": tx.nonce,
            "expiry": tx.expiry, "signers": tx.signers.map { ["id": $0.id.text, "public_key": $0.hex] },
            "signatures": signed.signatures.map(\.hex), "body": cbor(tx.body), "encoded": Hex.encode(signed.encoded),
        ]
        if let height { view["height"] = height }
        if let position { view["position"] = position }
        return view
    }

    /// A CBOR value as JSON: 20-byte strings read as IDs, other bytes as hex.
    public static func cbor(_ value: CBOR) -> Any {
        switch value {
        case .unsigned(let n): return n
        case .negative(let n): return n < UInt64(Int64.max) ? -Int64(n) - 1 : "-\(n)-1"
        case .bytes(let bytes): return (bytes.count == ID.byteCount ? ID(bytes: bytes)?.text : nil) ?? Hex.encode(bytes)
        case .text(let text): return text
        case .array(let items): return items.map(cbor)
        case .map(let entries): return entries.mapValues(cbor)
        case .bool(let flag): return flag
        case .null: return NSNull()
        case .link(let cid): return "b" + Hex.encode(cid)
        }
    }

    public static func account(_ id: ID, _ account: Account) -> [String: Any] {
        ["id": id.text, "balance": account.balance, "balance_display": Units.display(account.balance), "nonce": account.nonce]
    }

    public static func organization(_ org: Organization) -> [String: Any] {
        [
            "id": org.id.text, "name": org.name, "description": org.description, "founder": org.founder.text,
            "created_height": org.createdHeight, "member_count": org.memberCount, "supervisor_count": org.supervisorCount,
        ]
    }

    public static func membership(_ membership: Membership) -> [String: Any] {
        ["id": membership.person.text, "organization": membership.organization.text, "person": membership.person.text,
         "role": membership.role.rawValue, "since_height": membership.sinceHeight]
    }

    /// One direction of a credit line: the letter of credit `grantor` extends to the other side, and
    /// what the other side owes it.
    public static func creditLine(_ line: CreditLine, grantor: ID, pulse: UInt64) -> [String: Any] {
        let grantee = line.other(grantor), terms = line.terms(grantedBy: grantor)
        let limit = terms.limit(atPulse: pulse)
        var view: [String: Any] = [
            "id": line.stateKey.text, "from": grantor.text, "to": grantee.text, "unit": "byte", "limit": terms.base,
            "limit_display": Units.display(terms.base), "effective_limit": limit, "expiry": terms.expiry, "ripple": terms.allowRipple,
            "owed": line.debt(of: grantee), "owed_display": Units.display(line.debt(of: grantee)), "owed_in_ious": line.itemized(of: grantee),
            "room": line.room(forDebtor: grantee, atPulse: pulse), "granted_height": line.openedHeight, "changed_height": line.changedHeight,
            "active": terms.base > 0 && pulse <= terms.expiry,
        ]
        if terms.period > 0 {
            view["schedule"] = ["increment": terms.increment, "period": terms.period, "cap": terms.cap, "since": terms.since]
        }
        return view
    }

    /// The directions of a line that mean something to `party`: credit it grants (or is owed under),
    /// and credit it receives (or owes under).
    public static func creditViews(_ line: CreditLine, for party: ID, pulse: UInt64) -> (given: [String: Any]?, received: [String: Any]?) {
        let other = line.other(party)
        let gives = line.terms(grantedBy: party).base > 0 || line.debt(of: other) > 0
        let receives = line.terms(grantedBy: other).base > 0 || line.debt(of: party) > 0
        return (gives ? creditLine(line, grantor: party, pulse: pulse) : nil, receives ? creditLine(line, grantor: other, pulse: pulse) : nil)
    }

    public static func iou(_ iou: IOU) -> [String: Any] {
        [
            "id": iou.id.text, "borrower": iou.borrower.text, "holder": iou.holder.text, "amount": iou.amount,
            "outstanding": iou.outstanding, "outstanding_display": Units.display(iou.outstanding), "memo": iou.memo,
            "issued_height": iou.issuedHeight,
        ]
    }

    public static func settlement(_ settlement: Settlement, pulse: UInt64) -> [String: Any] {
        var view: [String: Any] = [
            "id": settlement.streamKey.text, "provider": settlement.provider.text, "consumer": settlement.consumer.text,
            "service": settlement.service.rawValue, "sequence": settlement.sequence, "units": settlement.units, "value": settlement.value,
            "value_display": Units.display(settlement.value), "last_debt": settlement.lastDebt, "last_paid": settlement.lastPaid, "held": settlement.held,
            "pending": settlement.pending, "window_end": settlement.windowEnd, "submitter": settlement.submitter.text,
            "deposit": settlement.deposit, "in_window": settlement.pending && pulse <= settlement.windowEnd,
            "settled_height": settlement.settledHeight,
        ]
        if let contract = settlement.contract { view["contract"] = contract.text }
        return view
    }

    public static func storageContract(_ contract: StorageContract, pulse: UInt64) -> [String: Any] {
        var view: [String: Any] = [
            "id": contract.id.text, "kind": "storage", "payer": contract.payer.text, "provider": contract.provider.text, "cid": contract.cid,
            "size": contract.size, "root": contract.root.hex, "segments": contract.segments, "price_per_period": contract.pricePerPeriod,
            "period_pulses": contract.periodPulses, "periods": contract.periods, "start": contract.start,
            "current_period": min(contract.period(atPulse: pulse), contract.periods), "settled_periods": contract.settledPeriods,
            "escrow": contract.escrow, "deposit": contract.deposit, "missed": contract.missed, "ended": contract.ended,
            "challenge_answered": contract.challengeAnswered,
        ]
        if let period = contract.challengePeriod {
            view["challenge"] = ["period": period, "segment": contract.challengeIndex, "answered": contract.challengeAnswered,
                                 "deadline": contract.challengeDeadline, "open": contract.challengeOpen(atPulse: pulse)]
        }
        return view
    }

    public static func forwardContract(_ contract: ForwardContract) -> [String: Any] {
        [
            "id": contract.id.text, "kind": "forward", "client": contract.client.text, "relay": contract.relay.text,
            "price_ppm": contract.pricePPM, "created_height": contract.createdHeight, "ended": contract.ended,
        ]
    }

    public static func governance(_ governance: Governance) -> [String: Any] {
        var view: [String: Any] = [
            "approvals": governance.approvals, "voting": governance.voting.rawValue, "quorum_ppm": governance.quorumPPM,
            "threshold_ppm": governance.thresholdPPM, "remainder": governance.remainder.text, "contract_version": governance.contractVersion,
            "token_supply": governance.tokenSupply, "income_count": governance.incomeCount, "income_total": governance.incomeTotal,
            "income_total_display": Units.display(governance.incomeTotal), "proposal_count": governance.proposalCount,
        ]
        if let operation = governance.operation {
            view["operation"] = ["per_pulse": operation.perPulse, "cap": operation.cap, "end": operation.end, "since": operation.since,
                                 "issued": operation.issued, "account": operation.account.text]
        }
        return view
    }

    public static func contract(_ contract: ConsensusContract) -> [String: Any] {
        [
            "version": contract.version, "adopted_height": contract.adoptedHeight, "pro_rata_ppm": contract.proRataPPM,
            "value_chain_ppm": contract.valueChainPPM,
            "splits": contract.splits.map { split -> [String: Any] in
                switch split.target {
                case .member(let id): ["member": id.text, "ppm": split.ppm, "percent": percent(split.ppm)]
                case .role(let role): ["role": role.rawValue, "ppm": split.ppm, "percent": percent(split.ppm)]
                }
            },
            "summary": contract.splits.map { split in
                switch split.target {
                case .member(let id): "\(percent(split.ppm)) to \(id.text.prefix(12))…"
                case .role(let role): "\(percent(split.ppm)) to \(role.rawValue)s"
                }
            }.joined(separator: ", ") + (contract.proRataPPM > 0 ? ", \(percent(contract.proRataPPM)) pro rata to token holders" : "")
                + (contract.valueChainPPM > 0 ? ", \(percent(contract.valueChainPPM)) along value chains" : ""),
        ]
    }

    public static func percent(_ ppm: UInt64) -> String {
        let hundredths = ppm / 100
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) %"
    }

    public static func incomeEvent(_ event: IncomeEvent) -> [String: Any] {
        [
            "id": IncomeEvent.stateKey(event.organization, sequence: event.sequence).text, "organization": event.organization.text,
            "sequence": event.sequence, "payer": event.payer.text, "amount": event.amount, "amount_display": Units.display(event.amount),
            "reference": event.reference, "contract_version": event.contractVersion, "height": event.height, "payout_root": event.payoutRoot.hex,
            "payout_count": event.payoutCount, "remainder": event.remainder,
        ]
    }

    public static func proposal(_ proposal: Proposal, pulse: UInt64) -> [String: Any] {
        [
            "id": proposal.stateKey.text, "sequence": proposal.sequence, "type": proposal.kind.rawValue, "proposer": proposal.proposer.text,
            "payload": cbor(proposal.payload), "deadline": proposal.deadline, "eligible": proposal.eligible, "yes": proposal.yes, "no": proposal.no,
            "status": proposal.status == .open && pulse > proposal.deadline ? "expired" : proposal.status.rawValue,
        ]
    }
}
