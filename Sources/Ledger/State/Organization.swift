/// An organization's public profile, stored at `ID.derived("org", [organization])`.
public struct Organization: StateRecord, Equatable {
    public static let kind = "org"
    public static let nameBytesMax = 128
    public static let descriptionBytesMax = 1024

    public var id: ID
    public var name: String
    public var description: String
    public var founder: ID
    public var createdHeight: UInt64
    /// Members of any role except applicants.
    public var memberCount: UInt64
    public var supervisorCount: UInt64

    public static func stateKey(_ organization: ID) -> ID { ID.derived("org", [organization]) }

    public init(id: ID, name: String, description: String, founder: ID, createdHeight: UInt64) {
        self.id = id
        self.name = name
        self.description = description
        self.founder = founder
        self.createdHeight = createdHeight
        self.memberCount = 1
        self.supervisorCount = 1
    }

    public var fields: [String: CBOR] {
        [
            "id": .id(id), "name": .text(name), "description": .text(description), "founder": .id(founder),
            "created": .unsigned(createdHeight), "members": .unsigned(memberCount),
            "supervisors": .unsigned(supervisorCount),
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
    }
}

/// The identities of GongShi's organizations, plus the pending state of an application.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case applicant, guest, member, supervisor

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
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
    /// For an applicant introduced by a member rather than applying itself.
    public var introducedBy: ID?

    public static func stateKey(organization: ID, person: ID) -> ID { ID.derived("member", [organization, person]) }
    /// Memberships are grouped by organization, so a distribution can enumerate them.
    public static func group(_ organization: ID) -> ID { ID.derived("members", [organization]) }

    public init(organization: ID, person: ID, role: Role, sinceHeight: UInt64) {
        self.organization = organization
        self.person = person
        self.role = role
        self.sinceHeight = sinceHeight
    }

    /// `approvals` and `introducedBy` are written only when present, so a member's record has one form.
    public var fields: [String: CBOR] {
        var map: [String: CBOR] = ["org": .id(organization), "person": .id(person), "role": .text(role.rawValue), "since": .unsigned(sinceHeight),
                                   "group": .id(Membership.group(organization))]
        if !approvals.isEmpty { map["approvals"] = .array(approvals.map { .id($0) }) }
        if let introducedBy { map["introducedBy"] = .id(introducedBy) }
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
            for item in try fields.array("approvals", countMax: 64) {
                guard case .bytes(let raw) = item, let id = ID(bytes: raw) else { throw .schema("member: approvals are IDs") }
                approvals.append(id)
            }
        }
        introducedBy = fields.hasField("introducedBy") ? try fields.id("introducedBy") : nil
    }
}
