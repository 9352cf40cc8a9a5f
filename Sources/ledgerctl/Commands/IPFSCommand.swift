import ArgumentParser
import Foundation
import Ledger
import Storage

struct IPFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipfs",
        abstract: "Content as IPFS stores it: the same CIDs as Kubo's 'ipfs add'.",
        subcommands: [IPFSAddCommand.self])
}

struct IPFSAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "The CID 'ipfs add' gives a file: UnixFS, balanced DAG, Kubo's defaults.",
        discussion: """
            Defaults are Kubo's: CIDv0, 256 KiB chunks, dag-pb leaves, at most 174 links per node.
            --cid-version 1 gives CIDv1 with raw leaves (as in Kubo, unless --raw-leaves=false).
            -r adds a directory (hidden entries only with --hidden; symlinks as symlinks, not followed);
            -w wraps what is added in a directory naming it. Only --only-hash is offered so far: the
            node's content store is not built yet.
            Example: ledgerctl ipfs add --only-hash photo.jpg
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The file, or with -r the directory, to add.") var file: String
    @Flag(name: [.short, .long], help: "Add a directory and everything in it.") var recursive = false
    @Flag(name: [.customShort("H"), .long], help: "With -r, include files whose names begin with a dot.") var hidden = false
    @Flag(name: [.customShort("w"), .long], help: "Wrap the added file or directory in a directory that names it.") var wrapWithDirectory = false
    @Flag(name: [.customShort("n"), .long], help: "Only compute the CID; store nothing.") var onlyHash = false
    @Option(help: "CID version: 0 (Kubo's default) or 1.") var cidVersion = 0
    @Option(help: ArgumentHelp("Raw blocks for leaves (default: true with CIDv1, else false).", valueName: "bool")) var rawLeaves: Bool?
    @Option(help: ArgumentHelp("Chunker: size-N, N bytes per chunk, at most 1 MiB.", valueName: "size-N")) var chunker = "size-262144"
    @Flag(name: [.customShort("Q"), .long], help: "Print only the root CID.") var quieter = false

    func run() async throws {
        let importOptions: UnixFSImporter.Options
        do {
            importOptions = try UnixFSImporter.Options(chunkSize: try UnixFSImporter.Options.chunkSize(parsing: chunker), cidVersion: cidVersion,
                                                       rawLeaves: rawLeaves)
        } catch { throw CLIError("\(error)") }
        guard onlyHash else {
            throw CLIError("adding to the node's content store is not built yet; --only-hash computes the CID here")
        }
        let adding = ContentImport(options: importOptions, recursive: recursive, hidden: hidden, wrap: wrapWithDirectory)
        let (root, bytes): (UnixFSImporter.Node, UInt64)
        do { (root, bytes) = try adding.add(file) { _, _ in } } catch { throw CLIError("\(error)") }
        let name = URL(fileURLWithPath: file).lastPathComponent
        options.output(["cid": root.cid.text, "name": name, "bytes": bytes, "size": root.totalSize]) {
            quieter ? root.cid.text : "added \(root.cid.text) \(name)"
        }
    }
}
