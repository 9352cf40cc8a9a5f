import ArgumentParser

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Inspect accounts.", subcommands: [Show.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show an account's balance, organizations and credit lines.",
            discussion: "Example: ledgerctl account show ld1…   (default: the --as key's account)")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Account ID (ld1…) or local key name.") var account: String?

        func run() async throws {
            let id = try account.map(options.resolve) ?? options.key().publicKey.id
            let view = try await options.client.get("/api/v1/accounts/\(id.text)")
            options.output(view) {
                var lines = ["account   \(view.string("id"))", "balance   \(view.string("balance_display")) (\(view.string("balance")) bytes)",
                             "nonce     \(view.string("nonce"))"]
                for membership in view.list("organizations") { lines.append("org       \(membership.string("organization"))  \(membership.string("role"))") }
                for line in view.list("credit_given") { lines.append("grants    \(line.string("to"))  \(line.string("limit_display")) until pulse \(line.string("expiry"))") }
                for line in view.list("credit_received") { lines.append("receives  \(line.string("from"))  \(line.string("limit_display")) until pulse \(line.string("expiry"))") }
                return lines.joined(separator: "\n")
            }
        }
    }
}
