import ArgumentParser
import Foundation
import Ledger
import Storage

struct IPFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipfs",
        abstract: "Content as IPFS stores it: the same CIDs as Kubo's 'ipfs add'.",
        discussion: """
            Content lives in the data directory's content store (content.sqlite), which ledgerctl opens
            itself, as Kubo's CLI opens its repository; a running ledgerd shares it.
            """,
        subcommands: [IPFSAddCommand.self, IPFSCatCommand.self, IPFSGetCommand.self, IPFSLsCommand.self, IPFSPinCommand.self, IPFSRepoCommand.self])
}

extension GlobalOptions {
    /// The data directory's content store (created on first use).
    var contentStore: ContentStore {
        get throws {
            guard FileManager.default.fileExists(atPath: directory.path) else {
                throw CLIError("no data directory at \(directory.path); run 'ledgerd init' or give --data")
            }
            do { return try ContentStore(path: directory.contentStorePath) } catch { throw CLIError("\(error)") }
        }
    }
}

/// Imports `path` into the store: blocks written in batches of 64 (16 MiB at the default chunk size),
/// then the root pinned. `privateTo`: every block is marked as that private MiMei's as it is written.
func storeImport(_ adding: ContentImport, _ path: String, into store: ContentStore, privateTo: ID? = nil, progress: ProgressLine? = nil) throws -> (UnixFSImporter.Node, UInt64) {
    var batch: [(CID, [UInt8])] = []
    defer { progress?.finish() }
    do {
        let (root, bytes) = try adding.add(path) { cid, block in
            progress?.advance(block.count)
            batch.append((cid, block))
            if batch.count == 64 {
                try store.put(batch, privateTo: privateTo)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try store.put(batch, privateTo: privateTo)
        try store.pin(root.cid)
        return (root, bytes)
    } catch { throw CLIError("\(error)") }
}

/// A CID argument, refused in one line when it is not one.
func parseCID(_ text: String) throws -> CID {
    do { return try CID(text: text) } catch { throw CLIError("\(error)") }
}

struct IPFSCatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cat", abstract: "Write a file held in the content store to standard output.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The file's CID.") var cid: String

    func run() async throws {
        let root = try parseCID(cid)
        let export = ContentExport(store: try options.contentStore)
        let output = FileHandle.standardOutput
        do { try await export.file(root) { output.write(Data($0)) } } catch { throw CLIError("\(error)") }
    }
}

struct IPFSPinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Keep content through repo gc.",
                                                    subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Pin a CID held here (recursively unless --recursive=false).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CID.") var cid: String
        @Option(help: ArgumentHelp("Keep everything it links to.", valueName: "bool")) var recursive = true

        func run() async throws {
            let root = try parseCID(cid)
            let store = try options.contentStore
            do {
                guard try store.has(root) else { throw CLIError("\(root) is not in this node's content store; add or sync it first") }
                try store.pin(root, recursive: recursive)
            } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            options.output(["cid": root.text, "recursive": recursive]) { "pinned \(root.text) \(recursive ? "recursively" : "directly")" }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Unpin a CID (repo gc then frees what nothing else pins).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CID.") var cid: String

        func run() async throws {
            let root = try parseCID(cid)
            let removed: Bool
            do { removed = try options.contentStore.unpin(root) } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            guard removed else { throw CLIError("\(root) is not pinned") }
            options.output(["cid": root.text]) { "unpinned \(root.text)" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List pins.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let pins: [(cid: CID, recursive: Bool)]
            do { pins = try options.contentStore.pins() } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            options.output(["pins": pins.map { ["cid": $0.cid.text, "type": $0.recursive ? "recursive" : "direct"] }]) {
                pins.map { "\($0.cid.text) \($0.recursive ? "recursive" : "direct")" }.joined(separator: "\n")
            }
        }
    }
}

struct IPFSRepoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repo", abstract: "The content store.", subcommands: [GC.self])

    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Delete every block no pin reaches.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let removed: (blocks: Int, bytes: UInt64)
            do { removed = try options.contentStore.collectGarbage() } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            options.output(["blocks_removed": removed.blocks, "bytes_freed": removed.bytes]) { "removed \(removed.blocks) blocks, \(removed.bytes) bytes" }
        }
    }
}

struct IPFSAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "The CID 'ipfs add' gives a file: UnixFS, balanced DAG, Kubo's defaults.",
        discussion: """
            Defaults are Kubo's: CIDv0, 256 KiB chunks, dag-pb leaves, at most 174 links per node.
            --cid-version 1 gives CIDv1 with raw leaves (as in Kubo, unless --raw-leaves=false).
            -r adds a directory (hidden entries only with --hidden; symlinks as symlinks, not followed);
            -w wraps what is added in a directory naming it. Without --only-hash the blocks go into the
            content store and the root is pinned.
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
        let adding = ContentImport(options: importOptions, recursive: recursive, hidden: hidden, wrap: wrapWithDirectory)
        let (root, bytes): (UnixFSImporter.Node, UInt64)
        let progress = ProgressLine("adding \(URL(fileURLWithPath: file).lastPathComponent)", total: ProgressLine.fileBytes(file, hidden: hidden), options: options)
        if onlyHash {
            defer { progress.finish() }
            do { (root, bytes) = try adding.add(file) { _, block in progress.advance(block.count) } } catch { throw CLIError("\(error)") }
        } else {
            (root, bytes) = try storeImport(adding, file, into: try options.contentStore, progress: progress)
        }
        let name = URL(fileURLWithPath: file).lastPathComponent
        options.output(["cid": root.cid.text, "name": name, "bytes": bytes, "size": root.totalSize]) {
            quieter ? root.cid.text : "added \(root.cid.text) \(name)"
        }
    }
}
