import ArgumentParser

struct LedgerctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledgerctl",
        abstract: "Command-line client for a ledgerd node.",
        discussion: """
            First things to try (after 'ledgerd init' and 'ledgerd run'):
              ledgerctl status
              ledgerctl key
              ledgerctl org create --name "Open Video"
              ledgerctl key new alice && ledgerctl credit grant --to alice --limit 10GiB
              ledgerctl block show 1
            Every command takes --json for scripts, --node URL and --data DIR for another node, --as NAME to sign with another local key.
            """,
        version: "0.1.0",
        subcommands: [
            StatusCommand.self, KeyCommand.self, AccountCommand.self, TransferCommand.self, OrgCommand.self,
            CreditCommand.self, IOUCommand.self, ReceiptCommand.self, ContractCommand.self, BlockCommand.self, TxCommand.self, ProofCommand.self,
            VerifyCommand.self, BookkeeperCommand.self, SwarmCommand.self, DHTCommand.self, IPFSCommand.self, MiMeiCommand.self, AppCommand.self, UsageCommand.self, MeteringCommand.self,
        ])
}

/// Global options may come before the subcommand (`ledgerctl --data D status`); ArgumentParser reads
/// them only after it, so move them there.
@main
enum Entry {
    static let optionsWithValue: Set<String> = ["--node", "--data", "--as"]
    static let flags: Set<String> = ["--json"]

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var moved: [String] = []
        let index = 0
        while index < arguments.count, arguments[index].hasPrefix("--") {
            let name = String(arguments[index].split(separator: "=", maxSplits: 1)[0])
            if optionsWithValue.contains(name) && !arguments[index].contains("=") && index + 1 < arguments.count {
                moved += arguments[index...index + 1]
                arguments.removeSubrange(index...index + 1)
            } else if optionsWithValue.contains(name) || flags.contains(name) {
                moved.append(arguments.remove(at: index))
            } else {
                break
            }
        }
        await LedgerctlCommand.main(arguments + moved)
    }
}
