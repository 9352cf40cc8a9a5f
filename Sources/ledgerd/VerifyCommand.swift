import ArgumentParser
import Credit
import Foundation
import Ledger
import Storage

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Replay the whole chain from genesis, checking every block's links, commit certificates, transactions and state root.",
        discussion: "Example: ledgerd verify --data /tmp/node1   (exit status 0 when every block checks)")

    @OptionGroup var options: DataOption

    func run() throws {
        let directory = options.directory
        // A running node may be appending; verify a quiet ledger.
        do { try directory.lock() } catch { throw RuntimeFailure("\(error)") }
        let genesis = try directory.readGenesis()
        let store = try LedgerStore(path: directory.databasePath, create: false)
        let machine = StateMachine(rules: LedgerRules.all + CreditRules.all)
        var (state, genesisBlock) = try genesis.build()
        guard let stored = try store.block(at: 0), stored.hash == genesisBlock.hash else {
            throw RuntimeFailure("block 0 in the database is not the block the genesis file makes")
        }
        guard let latest = try store.latestHeight() else { throw RuntimeFailure("the database holds no blocks") }
        var previous = genesisBlock.header
        var transactions = 0
        for height in stride(from: UInt64(1), through: latest, by: 1) {
            guard let block = try store.block(at: height) else { throw RuntimeFailure("block \(height) is missing") }
            do {
                state = try Chain.apply(block, after: previous, state: state, machine: machine).state
            } catch {
                throw RuntimeFailure("block \(height) fails verification: \(error)")
            }
            transactions += block.transactions.count
            previous = block.header
        }
        let stateOnDisk = try store.loadLatestState()
        guard stateOnDisk.rootHash == state.rootHash else {
            throw RuntimeFailure("the stored state's root \(stateOnDisk.rootHash) differs from the replayed root \(state.rootHash)")
        }
        print("verified \(latest + 1) blocks (\(transactions) transactions); state root \(state.rootHash) matches block \(latest)")
    }
}
