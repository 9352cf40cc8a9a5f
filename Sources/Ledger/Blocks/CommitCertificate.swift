/// A block's proof of finality: precommits for (height, round, block) from bookkeepers holding more than
/// two thirds of the voting power (specs/blocks.md §Commit certificate). Anyone holding the bookkeeper set
/// checks it with no node's word.
public struct CommitCertificate: CBORCodable, Hashable, Sendable {
    /// One precommit, with the fields the certificate shares left out.
    public struct Signer: Hashable, Sendable {
        public var key: PublicKey
        public var timeMillis: UInt64
        public var signature: Signature

        public init(key: PublicKey, timeMillis: UInt64, signature: Signature) {
            self.key = key
            self.timeMillis = timeMillis
            self.signature = signature
        }
    }

    public var height: UInt64
    public var round: UInt32
    public var block: Digest
    public var signers: [Signer]

    public init(height: UInt64, round: UInt32, block: Digest, signers: [Signer]) {
        self.height = height
        self.round = round
        self.block = block
        self.signers = signers
    }

    /// A certificate from precommits for one block (the caller collected them; `verify` checks them).
    public init(precommits: [ConsensusVote], height: UInt64, round: UInt32, block: Digest) {
        self.init(height: height, round: round, block: block,
                  signers: precommits.map { Signer(key: $0.voter, timeMillis: $0.timeMillis, signature: $0.signature) })
    }

    /// The precommit each signer made.
    public func precommits(chain: String) -> [ConsensusVote] {
        signers.map {
            ConsensusVote(kind: .precommit, chain: chain, height: height, round: round, block: block, timeMillis: $0.timeMillis, voter: $0.key, signature: $0.signature)
        }
    }

    public var cbor: CBOR {
        .map([
            "height": .unsigned(height), "round": .unsigned(UInt64(round)), "block": .digest(block),
            "votes": .array(signers.map { .map(["key": .bytes($0.key.bytes), "time": .unsigned($0.timeMillis), "sig": .bytes($0.signature.bytes)]) }),
        ])
    }

    public init(cbor: CBOR) throws(DecodeError) {
        var fields = try CBORFields(cbor, schema: "commit certificate")
        height = try fields.unsigned("height")
        guard let round = UInt32(exactly: try fields.unsigned("round")) else { throw .schema("commit certificate: round must be below 2^32") }
        self.round = round
        block = try fields.digest("block")
        signers = []
        for item in try fields.array("votes", countMax: BookkeeperSet.countMax) {
            var vote = try CBORFields(item, schema: "certificate vote")
            let key = try vote.publicKey("key")
            let time = try vote.unsigned("time")
            guard let signature = try? Signature(bytes: try vote.bytes("sig", count: 64)) else {
                throw .schema("certificate vote: signature must be 64 bytes")
            }
            try vote.finish()
            signers.append(Signer(key: key, timeMillis: time, signature: signature))
        }
        try fields.finish()
    }

    /// What the next header's `lastCommit` holds: TaggedHash("ledgerd/commit", encode(certificate)).
    public var hash: Digest { SHA256.tagged("ledgerd/commit", CBOREncoder.encode(cbor)) }

    /// Checks that this certifies `block` at `height` for `chain`: each signer a distinct member of
    /// `bookkeepers`, each precommit valid, and more than two thirds of the power among them.
    /// Precommits in `known` (`KnownSignatures.key`) were verified before and are not verified again.
    public func verify(chain: String, height: UInt64, block: Digest, bookkeepers: BookkeeperSet, known: Set<Digest>? = nil) throws(Rejection) {
        guard self.height == height, self.block == block else {
            throw Rejection(.badSignature, "the commit certificate is for block \(self.block) at height \(self.height), not \(block) at \(height)")
        }
        var signed = Set<PublicKey>()
        var power: UInt64 = 0
        for signer in signers {
            guard let weight = bookkeepers.power(of: signer.key) else {
                throw Rejection(.badSignature, "block \(height)'s certificate holds a precommit from \(signer.key.id), who is not a bookkeeper")
            }
            guard signed.insert(signer.key).inserted else {
                throw Rejection(.badSignature, "block \(height)'s certificate holds two precommits from \(signer.key.id)")
            }
            let digest = ConsensusVote.signingDigest(kind: .precommit, chain: chain, height: height, round: round, block: block, timeMillis: signer.timeMillis)
            let seen = known?.contains(KnownSignatures.key(voter: signer.key, digest: digest, signature: signer.signature)) ?? false
            guard seen || signer.key.verify(signer.signature, for: digest) else {
                throw Rejection(.badSignature, "a precommit in block \(height)'s certificate does not verify")
            }
            power += weight
        }
        guard bookkeepers.isQuorum(power) else {
            throw Rejection(.badSignature, "block \(height)'s certificate holds \(power) of \(bookkeepers.totalPower) voting power; more than two thirds is needed")
        }
    }
}

extension Block {
    /// This block with a certificate of precommits signed by `keys` in `round`, each timed at the block's
    /// time: what a bookkeeper set that agreed at once produces (a node keeping the books alone, tests).
    public func certified(by keys: [SecretKey], round: UInt32 = 0) -> Block {
        let precommits = keys.map {
            ConsensusVote(kind: .precommit, chain: header.chain, height: height, round: round, block: hash, timeMillis: header.timeMillis, key: $0)
        }
        var block = self
        block.commit = CommitCertificate(precommits: precommits, height: height, round: round, block: hash)
        return block
    }
}
