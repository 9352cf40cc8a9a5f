/// An organization's consensus contract: how each income event is split. Versioned; a version never
/// changes, a new one is adopted only by a passed vote, and each income event names the version it
/// was split by. Stored at `ID.derived("orgcontract", org || version (8 bytes, big-endian))`.
///
/// Three kinds of rule, combinable, in parts per million of the income:
/// - `splits`: fixed shares to a member, or to a role (divided equally among its members);
/// - `proRata`: a share divided among token holders in proportion to their tokens;
/// - `valueChain`: a share divided among the recorded contributors to the content that earned the
///   income (its reference), in proportion to their contribution weights.
/// What is not assigned, and every rounding remainder, goes to the organization's remainder account.
public struct ConsensusContract: StateRecord, Equatable {
    public static let kind = "orgcontract"
    public static let million: UInt64 = 1_000_000
    public static let splitsMax = 64

    public struct Split: Equatable, Sendable {
        public enum Target: Equatable, Sendable {
            case member(ID)
            case role(Role)
        }

        public var target: Target
        public var ppm: UInt64

        public init(_ target: Target, ppm: UInt64) {
            self.target = target
            self.ppm = ppm
        }

        var cbor: CBOR {
            switch target {
            case .member(let id): .map(["member": .id(id), "ppm": .unsigned(ppm)])
            case .role(let role): .map(["role": .text(role.rawValue), "ppm": .unsigned(ppm)])
            }
        }

        init(cbor: CBOR) throws(DecodeError) {
            var fields = try CBORFields(cbor, schema: "split")
            ppm = try fields.unsigned("ppm")
            if fields.hasField("member") {
                target = .member(try fields.id("member"))
            } else {
                guard let role = Role(rawValue: try fields.text("role", lengthMax: 16)), role != .applicant else {
                    throw .schema("split: role must be supervisor, member or guest")
                }
                target = .role(role)
            }
            try fields.finish()
        }
    }

    public var organization: ID
    public var version: UInt64
    public var splits: [Split]
    public var proRataPPM: UInt64
    public var valueChainPPM: UInt64
    public var adoptedHeight: UInt64

    public init(organization: ID, version: UInt64, splits: [Split], proRataPPM: UInt64 = 0, valueChainPPM: UInt64 = 0, adoptedHeight: UInt64) {
        self.organization = organization
        self.version = version
        self.splits = splits
        self.proRataPPM = proRataPPM
        self.valueChainPPM = valueChainPPM
        self.adoptedHeight = adoptedHeight
    }

    public static func stateKey(_ organization: ID, version: UInt64) -> ID {
        ID.derived("orgcontract", data: organization.bytes + version.bigEndianBytes)
    }

    /// The parts must not add up to more than the whole.
    public var isValid: Bool {
        guard splits.count <= ConsensusContract.splitsMax else { return false }
        var total = proRataPPM.addingReportingOverflow(valueChainPPM)
        for split in splits where !total.overflow { total = total.partialValue.addingReportingOverflow(split.ppm) }
        return !total.overflow && total.partialValue <= ConsensusContract.million
    }

    /// The rules only (as a proposal or creation body carries them).
    public var rules: CBOR {
        .map(["splits": .array(splits.map(\.cbor)), "proRata": .unsigned(proRataPPM), "valueChain": .unsigned(valueChainPPM)])
    }

    public init(organization: ID, version: UInt64, rules: CBOR, adoptedHeight: UInt64) throws(DecodeError) {
        var fields = try CBORFields(rules, schema: "contract")
        var splits: [Split] = []
        for item in try fields.array("splits", countMax: ConsensusContract.splitsMax) { splits.append(try Split(cbor: item)) }
        self.init(organization: organization, version: version, splits: splits, proRataPPM: try fields.unsigned("proRata"),
                  valueChainPPM: try fields.unsigned("valueChain"), adoptedHeight: adoptedHeight)
        try fields.finish()
    }

    public var fields: [String: CBOR] {
        ["org": .id(organization), "version": .unsigned(version), "rules": rules, "adopted": .unsigned(adoptedHeight)]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        let organization = try fields.id("org"), version = try fields.unsigned("version")
        let rules = try fields.value("rules")
        try self.init(organization: organization, version: version, rules: rules, adoptedHeight: try fields.unsigned("adopted"))
    }
}
