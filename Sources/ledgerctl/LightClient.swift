import Foundation
import Ledger

/// Follows the chain's headers from a trusted point using only commit certificates and the bookkeeper
/// sets the headers commit to, as CometBFT's light client does: the node is asked for headers,
/// certificates and sets, and nothing it says is believed that a hash or a signature does not prove.
/// A header far ahead is accepted in one step when bookkeepers holding more than a third of the trusted
/// set's power signed it (at least one of them honest) and its own set certified it; otherwise the gap
/// is bisected, down to adjacent headers, which must link by hash.
struct LightClient {
    struct Trusted {
        var header: BlockHeader
        /// The set that certifies the next block: the one `header.nextBookkeepers` names.
        var nextSet: BookkeeperSet
    }

    let client: NodeClient
    private(set) var headersChecked = 0
    private(set) var skips = 0
    /// How far apart in time a skip may reach: the chain's unbond delay. Keys that signed the trusted
    /// header are still bonded (slashable for what they sign) until then; past it, more than a third of an
    /// old set proves nothing, and the gap is bisected down to adjacent headers instead (CometBFT's
    /// trusting period). The genesis file's, or the default's when only --trust is given and no genesis
    /// file is at hand.
    private(set) var trustingPeriodMillis: UInt64 = ChainParameters.unbondDelayPulsesDefault * 1_000
    /// How far ahead of this machine's clock a header's time may be for a skip to it.
    static let clockDriftMillisMax: UInt64 = 60_000

    init(client: NodeClient) { self.client = client }

    /// The trusted point: block 0 of a genesis file you hold, or a header you name by height and hash.
    mutating func anchor(genesis: Genesis?, trust: (height: UInt64, hash: Digest)?, parameters known: Genesis? = nil) async throws -> Trusted {
        if let params = (try? (genesis ?? known)?.build())?.state.parameters {
            let (period, overflow) = params.unbondDelayPulses.multipliedReportingOverflow(by: params.pulseMillis)
            trustingPeriodMillis = overflow ? .max : period
        }
        if let genesis {
            let built = try genesis.build()
            guard let set = built.state.bookkeepers else { throw CLIError("the genesis file names no bookkeepers") }
            return Trusted(header: built.block.header, nextSet: set)
        }
        guard let trust else { throw CLIError("give --genesis FILE or --trust HEIGHT:HASH") }
        let (header, _) = try await fetch(trust.height)
        guard header.hash == trust.hash else { throw CLIError("the node's block \(trust.height) is \(header.hash), not the trusted \(trust.hash)") }
        return Trusted(header: header, nextSet: try await nextSet(after: header))
    }

    /// Verifies the header at `target` from `trusted`, returning it.
    mutating func verify(to target: UInt64, from trusted: Trusted) async throws -> Trusted {
        guard target > trusted.header.height else {
            guard target == trusted.header.height else { throw CLIError("height \(target) is below the trusted height \(trusted.header.height)") }
            return trusted
        }
        let (header, commit) = try await fetch(target)
        guard header.chain.sameBytes(as: trusted.header.chain) else {
            throw CLIError("block \(target) is of chain '\(header.chain.prefix(64))', not the trusted chain '\(trusted.header.chain)'")
        }
        guard let commit else { throw CLIError("block \(target) has no commit certificate") }
        if target == trusted.header.height + 1 {
            guard header.previous == trusted.header.hash else { throw CLIError("block \(target) does not link to the trusted block \(trusted.header.height)") }
            guard header.bookkeepers == trusted.header.nextBookkeepers else {
                throw CLIError("block \(target) names another bookkeeper set than the trusted block handed over to")
            }
            try certify(commit, header: header, by: trusted.nextSet)
            return Trusted(header: header, nextSet: try await nextSet(after: header, current: trusted.nextSet))
        }
        // Skipping ahead: more than a third of the trusted set's power must have signed it, and its own set
        // (which its header commits to) must have certified it.
        let signingSet = header.bookkeepers == trusted.nextSet.hash ? trusted.nextSet : try await set(certifying: header)
        // Within the trusting period by this machine's clock as well as by the headers' times (which their
        // signers chose), and not from the future.
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let trustExpires = trusted.header.timeMillis.addingReportingOverflow(trustingPeriodMillis)
        let withinTrustingPeriod = header.timeMillis >= trusted.header.timeMillis && header.timeMillis - trusted.header.timeMillis <= trustingPeriodMillis
            && (trustExpires.overflow || trustExpires.partialValue >= now) && header.timeMillis <= now &+ Self.clockDriftMillisMax
        if withinTrustingPeriod, Self.trustedPower(of: commit, header: header, in: trusted.nextSet) {
            try certify(commit, header: header, by: signingSet)
            skips += 1
            return Trusted(header: header, nextSet: try await nextSet(after: header, current: signingSet))
        }
        let pivot = trusted.header.height + (target - trusted.header.height) / 2
        let middle = try await verify(to: pivot, from: trusted)
        return try await verify(to: target, from: middle)
    }

    private func certify(_ commit: CommitCertificate, header: BlockHeader, by set: BookkeeperSet) throws {
        do { try commit.verify(chain: header.chain, height: header.height, block: header.hash, bookkeepers: set) } catch {
            throw CLIError("block \(header.height) is not certified by its bookkeepers: \(error.message)")
        }
    }

    /// Whether valid precommits in `commit` from members of `set` hold more than a third of its power.
    static func trustedPower(of commit: CommitCertificate, header: BlockHeader, in set: BookkeeperSet) -> Bool {
        guard commit.height == header.height, commit.block == header.hash else { return false }
        var counted = Set<PublicKey>()
        var power: UInt64 = 0
        for signer in commit.signers where !counted.contains(signer.key) {
            guard let weight = set.power(of: signer.key) else { continue }
            let digest = ConsensusVote.signingDigest(kind: .precommit, chain: header.chain, height: header.height, round: commit.round,
                                                     block: header.hash, timeMillis: signer.timeMillis)
            guard signer.key.verify(signer.signature, for: digest) else { continue }
            counted.insert(signer.key)
            power += weight
        }
        return set.exceedsOneThird(power)
    }

    /// A header and its certificate, the header rebuilt and hashed here.
    private mutating func fetch(_ height: UInt64) async throws -> (BlockHeader, CommitCertificate?) {
        let view = try await client.get("/api/v1/blocks/\(height)")
        let header = try HeaderFromJSON.decode(view)
        guard header.height == height, header.hash.hex == view.string("hash") else {
            throw CLIError("the node's block \(height) does not hash to the hash it claims")
        }
        headersChecked += 1
        return (header, try HeaderFromJSON.certificate(view["commit"], height: height))
    }

    /// The set that certifies `header`, from the node, believed only because it hashes to `header.bookkeepers`.
    private func set(certifying header: BlockHeader) async throws -> BookkeeperSet {
        let view = try await client.get("/api/v1/bookkeepers?height=\(header.height)")
        guard let bytes = Hex.decode(view.string("encoded")), let set = try? BookkeeperSet(cbor: CBORDecoder.decode(bytes)), set.hash == header.bookkeepers else {
            throw CLIError("the node's bookkeeper set for block \(header.height) does not hash to the one its header names")
        }
        return set
    }

    /// The set after `header`: unchanged when the header says so, else proven from its state root.
    private func nextSet(after header: BlockHeader, current: BookkeeperSet? = nil) async throws -> BookkeeperSet {
        if let current, current.hash == header.nextBookkeepers { return current }
        let answer = try await client.get("/api/v1/proofs/\(BookkeeperSet.stateKey.text)?height=\(header.height)")
        guard let proofBytes = Hex.decode(answer.string("proof")), let proof = try? StateProof(encoded: proofBytes),
              case .present(let valueHash)? = try? proof.verify(root: header.stateRoot),
              let valueBytes = Hex.decode(answer.string("value")), SHA256.hash(valueBytes) == valueHash,
              let set = try? BookkeeperSet(cbor: CBORDecoder.decode(valueBytes)), set.hash == header.nextBookkeepers
        else { throw CLIError("the bookkeeper set after block \(header.height) is not proven by its state root") }
        return set
    }
}
