import ArgumentParser
import Ledger

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Create and run organizations: members, roles, applications.",
        subcommands: [Create.self, Show.self, List.self, Members.self, Join.self, Introduce.self, Approve.self, Reject.self, Role.self, Leave.self,
                      Remove.self, Token.self, Propose.self, VoteCommand.self, Income.self, Contribute.self, Dividends.self, Audit.self, ClaimOperation.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create an organization with its own new key and its consensus contract; you become its first supervisor.",
            discussion: "Example: ledgerctl org create --name \"Open Video\" --split supervisor=30,member=20,prorata=40,chain=10 --approvals 2")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Option(help: "Name (1 to 128 bytes).") var name: String
        @Option(help: "Public description.") var description: String = ""
        @Option(name: .customLong("key-name"), help: ArgumentHelp("Name for the organization's key file (default org-<id prefix>).", valueName: "name"))
        var keyName: String?
        @OptionGroup var contract: ContractOptions
        @OptionGroup var policy: PolicyOptions

        func run() async throws {
            guard !name.isEmpty, name.utf8.count <= Organization.nameBytesMax else { throw CLIError("--name must be 1 to \(Organization.nameBytesMax) bytes") }
            guard description.utf8.count <= Organization.descriptionBytesMax else { throw CLIError("--description is longer than \(Organization.descriptionBytesMax) bytes") }
            let founder = try options.key()
            let orgKey = SecretKey.generate()
            let file = keyName ?? "org-" + String(orgKey.publicKey.id.text.dropFirst(3).prefix(8))
            do { try options.directory.saveKey(orgKey, name: file) } catch { throw CLIError("\(error)") }
            let parsed = try contract.parse(options, organization: orgKey.publicKey.id)
            let policyBody = policy.given ? try policy.body(options, defaultRemainder: founder.publicKey.id) : nil
            let tx = try await Submitter(options: options).submit(
                type: OrganizationRules.create, body: OrganizationRules.createBody(name: name, description: description, contract: parsed, policy: policyBody),
                signers: [founder, orgKey], wait: !wait.noWait)
            var view = tx
            view["organization"] = orgKey.publicKey.id.text
            view["key_name"] = file
            options.output(view) { "created organization \(name)\n  id    \(orgKey.publicKey.id)\n  key   \(file)\n  \(Submitter.describe(tx))" }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an organization and its members.",
                                                        discussion: "Example: ledgerctl org show ld1…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Organization ID (ld1…) or the name of its local key.") var organization: String

        func run() async throws {
            let id = try options.resolve(organization)
            let org = try await options.client.get("/api/v1/organizations/\(id.text)")
            options.output(org) {
                var lines = ["\(org.string("name"))  \(org.string("id"))", "  \(org.string("description"))",
                             "founder   \(org.string("founder"))  (block \(org.string("created_height")))"]
                for member in org.list("members") { lines.append("  \(member.string("role").padding(toLength: 11, withPad: " ", startingAt: 0)) \(member.string("person"))") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List organizations.", discussion: "Example: ledgerctl org list")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let answer = try await options.client.get("/api/v1/organizations")
            options.output(answer) {
                answer.list("organizations").map { "\($0.string("id"))  \($0.string("name"))  (\($0.string("member_count")) members)" }.joined(separator: "\n")
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "join", abstract: "Apply to join an organization, for a role; supervisors approve that role.",
                                                        discussion: "Example: ledgerctl org join ld1… --role member --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String
        @Option(help: "Role applied for: member, guest or supervisor.") var role: String = "member"

        func run() async throws {
            try await submitOrg(options, wait, type: OrganizationRules.join,
                                body: OrganizationRules.joinBody(organization: try options.resolve(organization), role: try parseRole(role)))
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve an application for the role it names (supervisors only).",
                                                        discussion: "Example: ledgerctl org approve ld1…(org) alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String
        @Argument(help: "Applicant: ID or local key name.") var person: String
        @Option(help: "The role applied for, to make sure of what you approve (an approval never changes it).") var role: String?

        func run() async throws {
            let expected = try role.map(parseRole)
            try await submitOrg(options, wait, type: OrganizationRules.approve,
                                body: OrganizationRules.memberBody(organization: try options.resolve(organization), person: try options.resolve(person), role: expected))
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject an application (supervisors only).",
                                                        discussion: "Example: ledgerctl org reject ld1…(org) ld1…(person)")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String
        @Argument(help: "Applicant: ID or local key name.") var person: String

        func run() async throws {
            try await submitOrg(options, wait, type: OrganizationRules.reject,
                                body: OrganizationRules.memberBody(organization: try options.resolve(organization), person: try options.resolve(person)))
        }
    }

    struct Role: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role", abstract: "Change a member's role (supervisors only).",
                                                        discussion: "Example: ledgerctl org role ld1…(org) alice supervisor")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String
        @Argument(help: "Member: ID or local key name.") var person: String
        @Argument(help: "New role: supervisor, member or guest.") var role: String

        func run() async throws {
            let newRole = try parseRole(role)
            try await submitOrg(options, wait, type: OrganizationRules.role,
                                body: OrganizationRules.memberBody(organization: try options.resolve(organization), person: try options.resolve(person), role: newRole))
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "leave", abstract: "Leave an organization, or withdraw an application.",
                                                        discussion: "Example: ledgerctl org leave ld1… --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String

        func run() async throws {
            try await submitOrg(options, wait, type: OrganizationRules.leave, body: OrganizationRules.organizationBody(try options.resolve(organization)))
        }
    }
}

extension OrgCommand {
    struct Introduce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "introduce", abstract: "As a member, put someone forward for membership; they co-sign.",
                                                        discussion: "Example: ledgerctl org introduce ld1…(org) carol --as alice   (carol's key local, or --out FILE for carol to sign)")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var counterparty: CounterpartyOptions
        @Argument(help: "Organization ID.") var organization: String
        @Argument(help: "Who: ID or local key name.") var person: String
        @Option(help: "Role put forward for: member, guest or supervisor.") var role: String = "member"

        func run() async throws {
            let who = try options.resolve(person)
            try await Submitter(options: options).submitCosigned(
                type: OrganizationRules.introduce,
                body: OrganizationRules.memberBody(organization: try options.resolve(organization), person: who, role: try parseRole(role)),
                first: try options.key(), second: who, counterparty: counterparty, wait: !wait.noWait)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a member (supervisors only).",
                                                        discussion: "Example: ledgerctl org remove ld1…(org) carol")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String
        @Argument(help: "Member: ID or local key name.") var person: String

        func run() async throws {
            try await submitOrg(options, wait, type: OrganizationRules.remove,
                                body: OrganizationRules.memberBody(organization: try options.resolve(organization), person: try options.resolve(person)))
        }
    }

    struct ClaimOperation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "claim-operation", abstract: "Issue the operation rewards accrued so far (supervisors).",
                                                        discussion: "Example: ledgerctl org claim-operation ld1…")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID.") var organization: String

        func run() async throws {
            try await submitOrg(options, wait, type: EconomyRules.claimOperation, body: EconomyRules.organizationBody(try options.resolve(organization)))
        }
    }
}

private func parseRole(_ text: String) throws -> Ledger.Role {
    guard let role = Ledger.Role(rawValue: text), role != .applicant else { throw CLIError("role '\(text)' must be supervisor, member or guest") }
    return role
}

private func submitOrg(_ options: GlobalOptions, _ wait: WaitOption, type: String, body: CBOR) async throws {
    let tx = try await Submitter(options: options).submit(type: type, body: body, signers: [try options.key()], wait: !wait.noWait)
    options.output(tx) { Submitter.describe(tx) }
}
