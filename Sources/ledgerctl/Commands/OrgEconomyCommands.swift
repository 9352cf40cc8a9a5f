import ArgumentParser
import Credit
import Foundation
import Ledger

/// Percent text ("30", "12.5") to parts per million.
func ppm(_ text: String) throws -> UInt64 {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let whole = UInt64(parts[0]), whole <= 100 else { throw CLIError("'\(text)' is not a percentage from 0 to 100") }
    var fraction: UInt64 = 0
    if parts.count == 2 {
        let digits = String(parts[1].prefix(4)).padding(toLength: 4, withPad: "0", startingAt: 0)
        guard let value = UInt64(digits) else { throw CLIError("'\(text)' is not a percentage") }
        fraction = value
    }
    let result = whole * 10_000 + fraction
    guard result <= 1_000_000 else { throw CLIError("'\(text)' is above 100 %") }
    return result
}

/// The contract options of `org create` and `org propose --contract`.
struct ContractOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How income is split, in percent: roles (supervisor, member, guest), IDs or key names, 'prorata' (token holders) and 'chain' (contributors), e.g. supervisor=30,member=20,prorata=40,chain=10; the rest goes to the remainder account.", valueName: "shares"))
    var split: String?

    @Option(help: ArgumentHelp("A contract file: {\"splits\": [{\"role\": \"supervisor\", \"percent\": 30}, {\"member\": \"ld1…\", \"percent\": 10}], \"prorata\": 40, \"chain\": 10}.", valueName: "file"))
    var contract: String?

    func parse(_ options: GlobalOptions, organization: ID) throws -> ConsensusContract? {
        var splits: [ConsensusContract.Split] = [], proRata: UInt64 = 0, chain: UInt64 = 0
        if let split {
            for item in split.split(separator: ",") {
                let pair = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { throw CLIError("--split item '\(item)' is not NAME=PERCENT") }
                let share = try ppm(pair[1])
                switch pair[0] {
                case "prorata": proRata = share
                case "chain": chain = share
                default:
                    if let role = Role(rawValue: pair[0]), role != .applicant { splits.append(.init(.role(role), ppm: share)) } else {
                        splits.append(.init(.member(try options.resolve(pair[0])), ppm: share))
                    }
                }
            }
        } else if let contract {
            guard let data = FileManager.default.contents(atPath: contract),
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else { throw CLIError("cannot read the contract file \(contract)") }
            for entry in object["splits"] as? [[String: Any]] ?? [] {
                let share = try ppm("\(entry["percent"] ?? "")")
                if let role = (entry["role"] as? String).flatMap(Role.init(rawValue:)), role != .applicant { splits.append(.init(.role(role), ppm: share)) }
                else if let member = entry["member"] as? String { splits.append(.init(.member(try options.resolve(member)), ppm: share)) }
                else { throw CLIError("\(contract): each split names a role or a member") }
            }
            proRata = try object["prorata"].map { try ppm("\($0)") } ?? 0
            chain = try object["chain"].map { try ppm("\($0)") } ?? 0
        } else {
            return nil
        }
        let result = ConsensusContract(organization: organization, version: 0, splits: splits, proRataPPM: proRata, valueChainPPM: chain, adoptedHeight: 0)
        guard result.isValid else { throw CLIError("the shares add up to more than 100 %") }
        return result
    }
}

/// The policy options of `org create` and `org propose --policy`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "Supervisor approvals a newcomer needs (k of n).") var approvals: UInt64?
    @Option(help: "How votes are weighted: member (one member, one vote) or token.") var voting: String?
    @Option(help: "Turnout needed, percent of the eligible weight.") var quorum: String?
    @Option(help: "Yes-weight needed, percent of the eligible weight.") var threshold: String?
    @Option(help: ArgumentHelp("Who receives what no rule assigns and every rounding remainder.", valueName: "account")) var remainder: String?
    @Option(help: ArgumentHelp("Operation rewards: TOKENS_PER_PULSE,CAP,END_PULSE,ACCOUNT.", valueName: "schedule")) var operation: String?

    var given: Bool { approvals != nil || voting != nil || quorum != nil || threshold != nil || remainder != nil || operation != nil }

    func body(_ options: GlobalOptions, defaultRemainder: ID) throws -> CBOR {
        guard let chosen = Governance.Voting(rawValue: voting ?? "member") else { throw CLIError("--voting is member or token") }
        var schedule: (perPulse: UInt64, cap: UInt64, end: UInt64, account: ID)? = nil
        if let operation {
            let parts = operation.split(separator: ",").map(String.init)
            guard parts.count == 4, let perPulse = UInt64(parts[0]), let cap = UInt64(parts[1]), let end = UInt64(parts[2]) else {
                throw CLIError("--operation is TOKENS_PER_PULSE,CAP,END_PULSE,ACCOUNT")
            }
            schedule = (perPulse, cap, end, try options.resolve(parts[3]))
        }
        return Governance.policy(approvals: approvals ?? 1, voting: chosen, quorumPPM: try ppm(quorum ?? "50"), thresholdPPM: max(try ppm(threshold ?? "50.0001"), 1),
                                 remainder: try remainder.map(options.resolve) ?? defaultRemainder, operation: schedule)
    }
}

extension OrgCommand {
    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "members", abstract: "List an organization's members and roles.",
                                                        discussion: "Example: ledgerctl org members ld1…")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Organization ID or key name.") var organization: String

        func run() async throws {
            let org = try await options.client.get("/api/v1/organizations/\(try options.resolve(organization).text)")
            let members = org.list("members")
            options.output(["id": org.string("id"), "members": members]) {
                members.map { "\($0.string("role").padding(toLength: 11, withPad: " ", startingAt: 0)) \($0.string("person"))" }.joined(separator: "\n")
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "An organization's token.", subcommands: [TokenTransfer.self])
    }

    struct TokenTransfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "transfer", abstract: "Transfer organization tokens; both holders sign.",
                                                        discussion: "Example: ledgerctl org token transfer ld1…(org) --to bob --amount 50 --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @OptionGroup var counterparty: CounterpartyOptions
        @Argument(help: "Organization ID or key name.") var organization: String
        @Option(help: ArgumentHelp("Recipient: ID or key name.", valueName: "account")) var to: String
        @Option(help: "Number of tokens.") var amount: UInt64

        func run() async throws {
            let recipient = try options.resolve(to)
            try await Submitter(options: options).submitCosigned(
                type: EconomyRules.tokenTransfer, body: EconomyRules.tokenTransferBody(organization: try options.resolve(organization), to: recipient, amount: amount),
                first: try options.key(), second: recipient, counterparty: counterparty, wait: !wait.noWait)
        }
    }

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "propose", abstract: "Put a reward, a new contract, a role change or a policy to the members' vote.",
            discussion: """
                Examples: ledgerctl org propose ld1… --reward --to alice --amount 1000 --reason "wrote the player" --proof "commit 4e1f"
                          ledgerctl org propose ld1… --split supervisor=20,prorata=80
                          ledgerctl org propose ld1… --role alice=supervisor
                          ledgerctl org propose ld1… --voting token
                """)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID or key name.") var organization: String
        @Flag(help: "Propose a structural reward (tokens): needs --to, --amount, --reason, --proof.") var reward = false
        @Option(help: ArgumentHelp("Reward recipient.", valueName: "account")) var to: String?
        @Option(help: "Tokens to issue.") var amount: UInt64?
        @Option(help: "Why.") var reason: String?
        @Option(help: "Proof of the work (a commit, a document hash).") var proof: String?
        @OptionGroup var contract: ContractOptions
        @Option(help: ArgumentHelp("Change a role: PERSON=ROLE.", valueName: "change")) var role: String?
        @OptionGroup var policy: PolicyOptions
        @Option(help: "Pulses the vote stays open.") var duration: UInt64 = 7 * 86_400

        func run() async throws {
            let org = try options.resolve(organization)
            let kind: Proposal.Kind, payload: CBOR
            if reward {
                guard let to, let amount, let reason, let proof else { throw CLIError("--reward needs --to, --amount, --reason and --proof") }
                (kind, payload) = (.reward, EconomyRules.rewardPayload(recipient: try options.resolve(to), amount: amount, reason: reason, proof: proof))
            } else if let parsed = try contract.parse(options, organization: org) {
                (kind, payload) = (.contract, parsed.rules)
            } else if let role {
                let pair = role.split(separator: "=").map(String.init)
                guard pair.count == 2, let newRole = Ledger.Role(rawValue: pair[1]), newRole != .applicant else { throw CLIError("--role is PERSON=supervisor|member|guest") }
                (kind, payload) = (.role, EconomyRules.rolePayload(person: try options.resolve(pair[0]), role: newRole))
            } else if policy.given {
                let current = try await options.client.get("/api/v1/organizations/\(org.text)")
                let remainder = try ID(text: current.object("governance")?.string("remainder") ?? "")
                (kind, payload) = (.policy, try policy.body(options, defaultRemainder: remainder))
            } else {
                throw CLIError("say what to propose: --reward, --split/--contract, --role or policy options")
            }
            let (tx, _) = try await Submitter(options: options).submitReturningNonce(
                type: EconomyRules.propose, body: EconomyRules.proposeBody(organization: org, kind: kind, payload: payload, duration: duration), wait: !wait.noWait)
            let count = try await options.client.get("/api/v1/organizations/\(org.text)").object("governance")?.uint("proposal_count") ?? 0
            var view = tx
            view["proposal"] = count
            options.output(view) { "proposal \(count) (\(kind.rawValue)) is open for \(duration) pulses\n\(Submitter.describe(tx))" }
        }
    }

    struct VoteCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "vote", abstract: "Vote on a proposal; it executes as soon as it passes.",
                                                        discussion: "Example: ledgerctl org vote ld1…(org) 3 --yes --as alice")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID or key name.") var organization: String
        @Argument(help: "Proposal number.") var proposal: UInt64
        @Flag(help: "Vote yes.") var yes = false
        @Flag(help: "Vote no.") var no = false

        func run() async throws {
            guard yes != no else { throw CLIError("vote --yes or --no") }
            try await Submitter(options: options).submitAndPrint(
                type: EconomyRules.vote, body: EconomyRules.voteBody(organization: try options.resolve(organization), proposal: proposal, yes: yes), wait: wait)
        }
    }

    struct Income: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "income", abstract: "Pay income into an organization; its contract splits it in the same block.",
            discussion: "Example: ledgerctl org income ld1… --amount 1GiB --reference \"ad 2026-11 #17\"")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID or key name.") var organization: String
        @Option(help: ArgumentHelp("Amount: bytes, or with a binary prefix.", valueName: "amount")) var amount: String
        @Option(help: "What earned it (an advertisement shown, a content ID): value chains are looked up by it.") var reference: String = ""

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(
                type: EconomyRules.income,
                body: EconomyRules.incomeBody(organization: try options.resolve(organization), amount: try amountOption(amount, "amount"), reference: reference), wait: wait)
        }
    }

    struct Contribute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "contribute", abstract: "Record a contribution to a piece of content (supervisors); weight 0 removes it.",
            discussion: "Example: ledgerctl org contribute ld1… --reference video-42 --contributor bob --role collector --weight 3")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var wait: WaitOption
        @Argument(help: "Organization ID or key name.") var organization: String
        @Option(help: "The content's reference.") var reference: String
        @Option(help: ArgumentHelp("Who contributed.", valueName: "account")) var contributor: String
        @Option(help: "What they did (plugin, collector, operator…).") var role: String
        @Option(help: "Their weight on this content's chain.") var weight: UInt64

        func run() async throws {
            try await Submitter(options: options).submitAndPrint(
                type: EconomyRules.contribute,
                body: EconomyRules.contributeBody(organization: try options.resolve(organization), reference: reference, contributor: try options.resolve(contributor),
                                                  role: role, weight: weight), wait: wait)
        }
    }

    struct Dividends: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dividends", abstract: "Each member's dividend totals; --csv writes every payout.",
            discussion: "Example: ledgerctl org dividends ld1… --csv dividends.csv")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Organization ID or key name.") var organization: String
        @Option(help: ArgumentHelp("Write all payouts as CSV here.", valueName: "file")) var csv: String?

        func run() async throws {
            let org = try options.resolve(organization)
            let view = try await options.client.get("/api/v1/organizations/\(org.text)")
            if let csv {
                guard let url = URL(string: try options.client.base + "/api/v1/organizations/\(org.text)/dividends.csv"),
                    let data = try? Data(contentsOf: url)
                else { throw CLIError("cannot fetch the CSV export") }
                guard FileManager.default.createFile(atPath: csv, contents: data) else { throw CLIError("cannot write \(csv)") }
            }
            let dividends = view.list("dividends")
            options.output(["id": org.text, "dividends": dividends, "income_total": view.object("governance")?["income_total"] ?? 0]) {
                (dividends.isEmpty ? ["no dividends yet"] : dividends.map { "\($0.string("person"))  \($0.string("total_display"))  (\($0.string("events")) events)" })
                    .joined(separator: "\n") + (csv.map { "\nwrote \($0)" } ?? "")
            }
        }
    }
}
