/// An organization's public profile, stored at `ID.derived("org", [organization])`.
public struct Organization: StateRecord, Equatable {
    public static let kind = "org"
    public static let nameBytesMax = 128
    public static let descriptionBytesMax = 1024
    /// Members of all roles but applicants: an income event pays each role's members, so this bounds
    /// its work (specs/organizations.md, bounded work).
    public static let membersMax: UInt64 = 1_000

    public var id: ID
    public var name: String
    public var description: String
    public var founder: ID
    public var createdHeight: UInt64
    /// Members of any role except applicants.
    public var memberCount: UInt64
    public var supervisorCount: UInt64
    /// Of `memberCount`, the guests: they take part but do not vote, so member voting counts the rest.
    public var guestCount: UInt64

    /// Those who vote under one-member-one-vote: members and supervisors.
    public var votingMemberCount: UInt64 { memberCount - min(guestCount, memberCount) }

    public static func stateKey(_ organization: ID) -> ID { ID.derived("org", [organization]) }

    public init(id: ID, name: String, description: String, founder: ID, createdHeight: UInt64) {
        self.id = id
        self.name = name
        self.description = description
        self.founder = founder
        self.createdHeight = createdHeight
        self.memberCount = 1
        self.supervisorCount = 1
        self.guestCount = 0
    }

    /// Keeps the counts in step with one person's move from `old` to `new` (nil: not a member).
    public mutating func count(from old: Role?, to new: Role?) {
        func adjust(_ role: Role?, by delta: Int) {
            guard let role, role != .applicant else { return }
            memberCount = delta > 0 ? memberCount + 1 : memberCount - min(1, memberCount)
            if role == .supervisor { supervisorCount = delta > 0 ? supervisorCount + 1 : supervisorCount - min(1, supervisorCount) }
            if role == .guest { guestCount = delta > 0 ? guestCount + 1 : guestCount - min(1, guestCount) }
        }
        adjust(old, by: -1)
        adjust(new, by: +1)
    }

    public var fields: [String: CBOR] {
        [
            "id": .id(id), "name": .text(name), "description": .text(description), "founder": .id(founder),
            "created": .unsigned(createdHeight), "members": .unsigned(memberCount),
            "supervisors": .unsigned(supervisorCount), "guests": .unsigned(guestCount),
        ]
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        id = try fields.id("id")
        name = try fields.text("name", lengthMax: Organization.nameBytesMax)
        description = try fields.text("description", lengthMax: Organization.descriptionBytesMax)
        founder = try fields.id("founder")
        createdHeight = try fields.unsigned("created")
        memberCount = try fields.unsigned("members")
        supervisorCount = try fields.unsigned("supervisors")
        guestCount = try fields.unsigned("guests")
    }
}

/// The identities of GongShi's organizations, plus the pending state of an application.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case applicant, guest, member, supervisor

    private var rank: Int {
        switch self {
        case .applicant: 0
        case .guest: 1
        case .member: 2
        case .supervisor: 3
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }

    /// Members and supervisors vote; guests and applicants do not (specs/organizations.md).
    public var votes: Bool { self >= .member }
}

/// One person's place in one organization, stored at `ID.derived("member", [organization, person])`.
public struct Membership: StateRecord, Equatable {
    public static let kind = "member"
    public var organization: ID
    public var person: ID
    public var role: Role
    public var sinceHeight: UInt64
    /// For an applicant: the supervisors who approved so far (the policy may need several).
    public var approvals: [ID] = []
    /// For an applicant: the role applied for. Every approval approves this role and no other.
    public var requested: Role?
    /// The most approvals a policy may require, and so the most an application record holds: the rule
    /// and the decoder share this bound, so every record a rule writes can be read back.
    public static let approvalsMax = 64
    /// For an applicant introduced by a member rather than applying itself.
    public var introducedBy: ID?

    public static func stateKey(organization: ID, person: ID) -> ID { ID.derived("member", [organization, person]) }
    /// Memberships are grouped by organization, so a distribution can enumerate them.
    public static func group(_ organization: ID) -> ID { ID.derived("members", [organization]) }
    /// Applications are grouped apart: anyone may apply, so no rule enumerates them.
    public static func applicantsGroup(_ organization: ID) -> ID { ID.derived("applicants", [organization]) }

    public init(organization: ID, person: ID, role: Role, sinceHeight: UInt64) {
        self.organization = organization
        self.person = person
        self.role = role
        self.sinceHeight = sinceHeight
    }

    /// `approvals`, `introducedBy` and `requested` are written only when present, so a member's record has one form.
    public var fields: [String: CBOR] {
        var map: [String: CBOR] = ["org": .id(organization), "person": .id(person), "role": .text(role.rawValue), "since": .unsigned(sinceHeight),
                                   "group": .id(role == .applicant ? Membership.applicantsGroup(organization) : Membership.group(organization))]
        if !approvals.isEmpty { map["approvals"] = .array(approvals.map { .id($0) }) }
        if let introducedBy { map["introducedBy"] = .id(introducedBy) }
        if let requested { map["requested"] = .text(requested.rawValue) }
        return map
    }

    public init(fields: inout CBORFields) throws(DecodeError) {
        organization = try fields.id("org")
        person = try fields.id("person")
        guard let role = Role(rawValue: try fields.text("role", lengthMax: 16)) else { throw .schema("member: unknown role") }
        self.role = role
        sinceHeight = try fields.unsigned("since")
        _ = try fields.id("group")
        if fields.hasField("approvals") {
            for item in try fields.array("approvals", countMax: Membership.approvalsMax) {
                guard case .bytes(let raw) = item, let id = ID(bytes: raw) else { throw .schema("member: approvals are IDs") }
                approvals.append(id)
            }
        }
        introducedBy = fields.hasField("introducedBy") ? try fields.id("introducedBy") : nil
        if fields.hasField("requested") {
            guard let requested = Role(rawValue: try fields.text("requested", lengthMax: 16)), requested != .applicant else {
                throw .schema("member: requested must be supervisor, member or guest")
            }
            self.requested = requested
        }
    }
}
