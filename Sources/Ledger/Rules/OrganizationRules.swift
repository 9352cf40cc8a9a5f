/// GongShi's organizations, first form: create, apply to join, approve or reject, change roles, leave.
/// Bodies and rules are in specs/transactions.md.
public enum OrganizationRules {
    public static let create = "org.create"
    public static let join = "org.join"
    public static let approve = "org.approve"
    public static let reject = "org.reject"
    public static let role = "org.role"
    public static let leave = "org.leave"

    public static let introduce = "org.introduce"
    public static let remove = "org.remove"

    public static var all: [TransactionRule] { [createRule, joinRule, approveRule, rejectRule, roleRule, leaveRule, introduceRule, removeRule] }

    // MARK: create

    /// Signer 0 is the founder, signer 1 the organization's own new key: its ID is the organization ID,
    /// and its signature proves the founder holds it.
    public static func createBody(name: String, description: String, contract: ConsensusContract? = nil, policy: CBOR? = nil) -> CBOR {
        var map: [String: CBOR] = ["name": .text(name), "description": .text(description)]
        if let contract { map["contract"] = contract.rules }
        if let policy { map["policy"] = policy }
        return .map(map)
    }

    static let createRule = TransactionRule(type: create, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let (name, description, contractRules, policy) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.text("name", lengthMax: Organization.nameBytesMax),
             try fields.text("description", lengthMax: Organization.descriptionBytesMax),
             fields.hasField("contract") ? try fields.value("contract") : nil,
             fields.hasField("policy") ? try fields.value("policy") : nil)
        }
        guard !name.isEmpty else { throw Rejection(.malformed, "organization name is empty") }
        let founder = tx.origin, organization = tx.signers[1].id
        guard try draft.record(Organization.self, at: Organization.stateKey(organization)) == nil else {
            throw Rejection(.organizationExists, "organization \(organization) already exists")
        }
        draft.put(
            Organization(id: organization, name: name, description: description, founder: founder, createdHeight: context.height),
            at: Organization.stateKey(organization))
        draft.put(
            Membership(organization: organization, person: founder, role: .supervisor, sinceHeight: context.height),
            at: Membership.stateKey(organization: organization, person: founder))
        // Governance and contract version 1: by default all income goes to the supervisors.
        var governance = Governance(organization: organization, remainder: founder)
        var contract = ConsensusContract(organization: organization, version: 1, splits: [.init(.role(.supervisor), ppm: ConsensusContract.million)],
                                         adoptedHeight: context.height)
        do throws(DecodeError) {
            if let policy { try governance.apply(policy: policy, pulse: context.pulse) }
            if let contractRules { contract = try ConsensusContract(organization: organization, version: 1, rules: contractRules, adoptedHeight: context.height) }
        } catch {
            throw Rejection.malformed(error)
        }
        guard contract.isValid else { throw Rejection(.malformed, "the contract's parts add up to more than 1,000,000 ppm") }
        draft.put(governance, at: Governance.stateKey(organization))
        draft.put(contract, at: ConsensusContract.stateKey(organization, version: 1))
    }

    // MARK: join, approve, reject

    public static func organizationBody(_ organization: ID) -> CBOR { .map(["org": .id(organization)]) }

    /// Applies to join, for a role (member by default). Only the person's own signature makes an application.
    public static func joinBody(organization: ID, role: Role? = nil) -> CBOR {
        var map: [String: CBOR] = ["org": .id(organization)]
        if let role { map["role"] = .text(role.rawValue) }
        return .map(map)
    }

    static let joinRule = TransactionRule(type: join, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, requested) = try tx.decodeBody { fields throws(DecodeError) in
            (try fields.id("org"), fields.hasField("role") ? try decodeRole(&fields, type: tx.type) : nil)
        }
        _ = try existing(organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: tx.origin)
        if let current = try draft.record(Membership.self, at: key) {
            throw Rejection(.alreadyMember, "\(tx.origin) is already \(current.role.rawValue) of \(organization)")
        }
        var membership = Membership(organization: organization, person: tx.origin, role: .applicant, sinceHeight: context.height)
        membership.requested = requested ?? .member
        draft.put(membership, at: key)
    }

    public static func memberBody(organization: ID, person: ID, role: Role? = nil) -> CBOR {
        var map: [String: CBOR] = ["org": .id(organization), "person": .id(person)]
        if let role { map["role"] = .text(role.rawValue) }
        return .map(map)
    }

    static func decodeRole(_ fields: inout CBORFields, type: String) throws(DecodeError) -> Role {
        let text = try fields.text("role", lengthMax: 16)
        guard let parsed = Role(rawValue: text), parsed != .applicant else {
            throw .schema("\(type): role must be supervisor, member or guest")
        }
        return parsed
    }

    static func decodeMember(_ tx: Transaction, roleRequired: Bool) throws(Rejection) -> (ID, ID, Role?) {
        try tx.decodeBody { fields throws(DecodeError) in
            let organization = try fields.id("org"), person = try fields.id("person")
            let role: Role? = roleRequired || fields.hasField("role") ? try decodeRole(&fields, type: tx.type) : nil
            return (organization, person, role)
        }
    }

    /// Approves an application for the role it names. A body may repeat that role, never change it:
    /// under a k-of-n policy every supervisor approves the same thing, so the last one cannot pick.
    static let approveRule = TransactionRule(type: approve, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, person, named) = try decodeMember(tx, roleRequired: false)
        var profile = try existing(organization, in: draft)
        try requireSupervisor(tx.origin, of: organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: person)
        guard var membership = try draft.record(Membership.self, at: key), membership.role == .applicant else {
            throw Rejection(.notApplicant, "\(person) has no pending application to \(organization)")
        }
        let role = membership.requested ?? .member
        if let named, named != role {
            throw Rejection(.invalidRole, "\(person) applied to be \(role.rawValue); an approval approves that role, not \(named.rawValue)")
        }
        // A k-of-n policy gathers approvals from distinct supervisors first.
        let needed = min(try draft.record(Governance.self, at: Governance.stateKey(organization))?.approvals ?? 1, UInt64(Membership.approvalsMax))
        guard !membership.approvals.contains(tx.origin) else { throw Rejection(.duplicate, "\(tx.origin) already approved \(person)") }
        membership.approvals.append(tx.origin)
        guard UInt64(membership.approvals.count) >= needed else {
            draft.put(membership, at: key)
            return
        }
        guard profile.memberCount < Organization.membersMax else {
            throw Rejection(EconomyRules.groupFull, "\(organization) has \(Organization.membersMax) members, the most an income split pays")
        }
        membership.approvals = []
        membership.introducedBy = nil
        membership.requested = nil
        membership.role = role
        membership.sinceHeight = context.height
        profile.count(from: nil, to: role)
        draft.put(membership, at: key)
        draft.put(profile, at: Organization.stateKey(organization))
    }

    static let rejectRule = TransactionRule(type: reject, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let (organization, person, _) = try decodeMember(tx, roleRequired: false)
        _ = try existing(organization, in: draft)
        try requireSupervisor(tx.origin, of: organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: person)
        guard let membership = try draft.record(Membership.self, at: key), membership.role == .applicant else {
            throw Rejection(.notApplicant, "\(person) has no pending application to \(organization)")
        }
        draft.set(key, nil)
    }

    // MARK: role, leave

    static let roleRule = TransactionRule(type: role, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (organization, person, requested) = try decodeMember(tx, roleRequired: true)
        var profile = try existing(organization, in: draft)
        try requireSupervisor(tx.origin, of: organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: person)
        guard var membership = try draft.record(Membership.self, at: key), membership.role != .applicant else {
            throw Rejection(.notMember, "\(person) is not a member of \(organization)")
        }
        guard let newRole = requested else { throw Rejection(.malformed, "\(tx.type): role is required") }
        try changeRole(&membership, to: newRole, in: &profile, context: context)
        draft.put(membership, at: key)
        draft.put(profile, at: Organization.stateKey(organization))
    }

    /// Moves a member to another role, keeping the organization's counts; never leaves it without a
    /// supervisor. One who starts to vote (a guest made member) votes only on later proposals.
    static func changeRole(_ membership: inout Membership, to newRole: Role, in profile: inout Organization, context: BlockContext) throws(Rejection) {
        if membership.role == .supervisor && newRole != .supervisor && profile.supervisorCount <= 1 {
            throw Rejection(.lastSupervisor, "\(membership.person) is the last supervisor of \(membership.organization)")
        }
        if !membership.role.votes && newRole.votes { membership.sinceHeight = context.height }
        profile.count(from: membership.role, to: newRole)
        membership.role = newRole
    }

    /// A member leaves, or an applicant withdraws. The last supervisor cannot leave.
    static let leaveRule = TransactionRule(type: leave, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let organization = try tx.decodeBody { fields throws(DecodeError) in try fields.id("org") }
        var profile = try existing(organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: tx.origin)
        guard let membership = try draft.record(Membership.self, at: key) else {
            throw Rejection(.notMember, "\(tx.origin) is not a member of \(organization)")
        }
        if membership.role != .applicant {
            guard membership.role != .supervisor || profile.supervisorCount > 1 else {
                throw Rejection(.lastSupervisor, "the last supervisor of \(organization) cannot leave; make another member supervisor first")
            }
            profile.count(from: membership.role, to: nil)
            draft.put(profile, at: Organization.stateKey(organization))
        }
        draft.set(key, nil)
    }

    // MARK: introduce, remove

    /// A member puts someone forward, and that person co-signs (signer 1): nobody joins without their
    /// own signature. Supervisors then approve as for an application, for the role it names.
    static let introduceRule = TransactionRule(type: introduce, signerCount: 2...2) { tx, draft, context throws(Rejection) in
        let (organization, person, requested) = try decodeMember(tx, roleRequired: false)
        guard tx.signers[1].id == person else { throw Rejection(.wrongSigners, "the second signer must be the person introduced, \(person)") }
        _ = try existing(organization, in: draft)
        let sponsor = try draft.record(Membership.self, at: Membership.stateKey(organization: organization, person: tx.origin))
        guard let sponsor, sponsor.role >= .member else { throw Rejection(.notMember, "\(tx.origin) is not a member of \(organization)") }
        let key = Membership.stateKey(organization: organization, person: person)
        if let current = try draft.record(Membership.self, at: key) {
            throw Rejection(.alreadyMember, "\(person) is already \(current.role.rawValue) of \(organization)")
        }
        var membership = Membership(organization: organization, person: person, role: .applicant, sinceHeight: context.height)
        membership.introducedBy = tx.origin
        membership.requested = requested ?? .member
        draft.put(membership, at: key)
    }

    /// A supervisor removes a member (never the last supervisor).
    static let removeRule = TransactionRule(type: remove, signerCount: 1...1) { tx, draft, _ throws(Rejection) in
        let (organization, person, _) = try decodeMember(tx, roleRequired: false)
        var profile = try existing(organization, in: draft)
        try requireSupervisor(tx.origin, of: organization, in: draft)
        let key = Membership.stateKey(organization: organization, person: person)
        guard let membership = try draft.record(Membership.self, at: key), membership.role != .applicant else {
            throw Rejection(.notMember, "\(person) is not a member of \(organization)")
        }
        guard membership.role != .supervisor || profile.supervisorCount > 1 else {
            throw Rejection(.lastSupervisor, "\(person) is the last supervisor of \(organization)")
        }
        profile.count(from: membership.role, to: nil)
        draft.put(profile, at: Organization.stateKey(organization))
        draft.set(key, nil)
    }

    // MARK: helpers

    static func existing(_ organization: ID, in draft: StateDraft) throws(Rejection) -> Organization {
        guard let profile = try draft.record(Organization.self, at: Organization.stateKey(organization)) else {
            throw Rejection(.unknownOrganization, "no organization \(organization)")
        }
        return profile
    }

    static func requireSupervisor(_ person: ID, of organization: ID, in draft: StateDraft) throws(Rejection) {
        let membership = try draft.record(Membership.self, at: Membership.stateKey(organization: organization, person: person))
        guard membership?.role == .supervisor else {
            throw Rejection(.notSupervisor, "\(person) is not a supervisor of \(organization)")
        }
    }
}

/// The rules Ledger contributes: transfers and organizations.
public enum LedgerRules {
    public static var all: [TransactionRule] { [TransferRule.rule] + OrganizationRules.all + EconomyRules.all + BondRules.all }
}
