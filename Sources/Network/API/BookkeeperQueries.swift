import Foundation
import Ledger

/// The bookkeepers: the set that certifies a block (for light clients, who check its hash against the
/// header themselves), and for the latest blocks who proposed and who signed (the explorer's page).
extension LedgerQueries {
    /// Blocks looked back over for performance; bounds the route's cost whatever the chain's length.
    static let bookkeeperWindow = 100
    static let recentBlocksShown = 20

    func bookkeepers(height heightText: Substring?) async throws -> [String: Any] {
        let latest = await node.latest.height
        let height = try heightText.map(Parse.height) ?? latest
        guard height <= latest else { throw APIError.notFound("block \(height)") }
        do {
            // The set that certifies block H is the one in the state after block H − 1 (block 0: genesis).
            let value = try await storeCall { try node.store.value(BookkeeperSet.stateKey, atHeight: height == 0 ? 0 : height - 1) }
            guard let value, let set = try? BookkeeperSet(cbor: value) else { throw APIError.notFound("the bookkeeper set at height \(height)") }
            let window: [Block] = height == 0 ? [] : try await storeCall {
                try (max(1, height >= UInt64(Self.bookkeeperWindow) ? height - UInt64(Self.bookkeeperWindow) + 1 : 1)...height).compactMap { try node.store.block(at: $0) }
            }
            var proposed: [ID: Int] = [:], signed: [ID: Int] = [:], earned: [ID: UInt64] = [:]
            let parameters = await node.state.parameters
            var sets = PayoutSets(store: node.store)
            for block in window {
                proposed[block.header.proposer, default: 0] += 1
                for signer in block.commit?.signers ?? [] { signed[signer.key.id, default: 0] += 1 }
                guard let parameters, let (certifiedBy, starting) = try await storeCall({ try sets.forBlock(block.height) }) else { continue }
                for share in MiningReward.payout(of: block, parameters: parameters, certifiedBy: certifiedBy, startingSet: starting).shares {
                    earned[share.bookkeeper, default: 0] &+= share.amount
                }
            }
            let members: [[String: Any]] = set.keys.enumerated().map { index, key in
                [
                    "id": key.id.text, "public_key": key.hex, "power": set.power(of: key) ?? 0, "chief": index == 0,
                    "proposed": proposed[key.id] ?? 0, "signed": signed[key.id] ?? 0, "rewards": earned[key.id] ?? 0,
                    "performance_ppm": window.isEmpty ? 0 : (signed[key.id] ?? 0) * 1_000_000 / window.count,
                ]
            }
            let recent: [[String: Any]] = window.suffix(Self.recentBlocksShown).reversed().map { block in
                [
                    "height": block.height, "hash": block.hash.hex, "round": block.commit?.round ?? 0, "proposer": block.header.proposer.text,
                    "signers": (block.commit?.signers ?? []).map(\.key.id.text), "txs": block.transactions.count,
                ]
            }
            let history = try await storeCall { try node.store.value(SlashingHistory.stateKey, atHeight: height == 0 ? 0 : height - 1) }
            let slashed: [[String: Any]] = (history.flatMap { try? SlashingHistory(cbor: $0) }?.entries ?? []).reversed().map { entry in
                ["bookkeeper": entry.voter.id.text, "height": entry.height, "round": entry.round, "evidence": entry.evidence.hex, "excluded_at": entry.excludedAt,
                 "burnt": entry.burnt]
            }
            return [
                "height": height, "hash": set.hash.hex, "slashed": slashed, "encoded": Hex.encode(CBOREncoder.encode(set.cbor)), "total_power": set.totalPower,
                "window": window.count, "bookkeepers": members, "recent": recent,
                "election": try await election(after: height, parameters: parameters),
            ]
        }
    }

    /// The next election as the state after block `height` sees it (the latest: what a bond just did): when, how many seats, and every bonded
    /// candidate with its bond, performance this cycle and whether it stands (specs/openapi.yaml).
    private func election(after height: UInt64, parameters: ChainParameters?) async throws -> [String: Any] {
        guard let parameters else { return [:] }
        let (bondsValue, performanceValue) = try await storeCall {
            (try node.store.value(Bonds.stateKey, atHeight: height), try node.store.value(Performance.stateKey, atHeight: height))
        }
        let bonds = bondsValue.flatMap { try? Bonds(cbor: $0) } ?? Bonds(entries: [])
        let performance = performanceValue.flatMap { try? Performance(cbor: $0) } ?? Performance(cycle: 0)
        let ranked = Election.candidates(bonds: bonds, performance: performance, parameters: parameters)
        let elected = Set((Election.elect(bonds: bonds, performance: performance, parameters: parameters)?.keys ?? []))
        return [
            "cycle": performance.cycle, "cycle_pulses": parameters.electionCyclePulses,
            "next_pulse": Election.nextElectionPulse(performance: performance, parameters: parameters),
            "seats": parameters.bookkeepersMax, "bond_minimum": parameters.bondMinimum, "unbond_delay_pulses": parameters.unbondDelayPulses,
            "slash_percent": parameters.slashPercent, "performance_min_percent": parameters.performanceMinPercent,
            "candidates": ranked.map { candidate -> [String: Any] in
                let entry = bonds.entry(candidate.key)
                let counted = performance.entry(candidate.key)
                return [
                    "id": candidate.key.id.text, "public_key": candidate.key.hex, "bonded": candidate.bonded, "unbonding": entry?.unbonding ?? 0,
                    "performance_permille": candidate.permille, "heights": counted?.heights ?? 0, "signed": counted?.signed ?? 0,
                    "eligible": candidate.eligible, "would_be_elected": elected.contains(candidate.key),
                ]
            },
            "unbonding": bonds.entries.filter { $0.unbonding > 0 }.map { entry -> [String: Any] in
                ["id": entry.key.id.text, "amount": entry.unbonding, "release_pulse": entry.releasePulse, "release_height": entry.releaseHeight]
            },
        ]
    }
}
