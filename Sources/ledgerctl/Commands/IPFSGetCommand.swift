import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Ledger
import Storage

struct IPFSGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a file or directory to disk, fetching what the content store lacks through the node.",
        discussion: """
            What is not in the content store is fetched by the running node (over Bitswap, from the DHT's
            providers and its peers) as a CAR from its gateway; every block is checked against its CID
            before it is stored. Entry names that would write outside the target are refused.
            Example: ledgerctl ipfs get QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o -o hello.txt
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The CID.") var cid: String
    @Option(name: [.short, .long], help: ArgumentHelp("Where to write it (default: the CID, in the current directory).", valueName: "path")) var output: String?

    func run() async throws {
        let root = try parseCID(cid)
        let store = try options.contentStore
        let target = output ?? root.text
        let fetched = try await ensureHeld(root, scope: .all, store: store, options: options)
        let written: UInt64
        do { written = try await ContentWrite(export: ContentExport(store: store)).write(root, to: target) } catch { throw CLIError("\(error)") }
        options.output(["cid": root.text, "path": target, "bytes": written, "blocks_fetched": fetched]) {
            "saved \(root.text) to \(target) (\(written) bytes\(fetched > 0 ? ", \(fetched) blocks fetched" : ""))"
        }
    }
}

struct IPFSLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List a directory's entries (CID, size, name), or a file's blocks.",
        discussion: "Fetches the node through the running node when the content store lacks it.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The CID.") var cid: String

    func run() async throws {
        let root = try parseCID(cid)
        let store = try options.contentStore
        _ = try await ensureHeld(root, scope: .block, store: store, options: options)
        var links: [DagPB.Link]
        do {
            guard let block = try store.get(root) else { throw CLIError("\(root) is not in the content store") }
            links = root.codec == CID.dagPBCodec ? try DagPB.links(of: block) : []
        } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
        // A HAMT-sharded directory lists its entries, as a basic one does: its sub-shards (its entity) first.
        if ContentExport(store: store).isShard(root) {
            _ = try await ensureHeld(root, scope: .entity, store: store, options: options)
            do {
                if case .directory(let entries) = try ContentExport(store: store).entry(root) { links = entries }
            } catch { throw CLIError("\(error)") }
        }
        options.output(["cid": root.text, "links": links.map { ["cid": $0.cid.text, "size": $0.totalSize, "name": $0.name] }]) {
            links.map { "\($0.cid.text) \($0.totalSize) \($0.name)" }.joined(separator: "\n")
        }
    }
}

/// Makes sure the store holds `root`'s `scope`: if anything is missing, downloads the node's CAR of it
/// (`/ipfs/{cid}?format=car`) to a temporary file and stores its blocks, each checked against its CID.
/// Returns the blocks stored. A private MiMei's content (`privateTo`) is asked for as the node's operator
/// (the admin cookie as bearer: the node fetches it through the MiMei exchange with its own capability),
/// and its blocks are marked as that MiMei's as they are stored.
func ensureHeld(_ root: CID, scope: ContentExport.Scope, store: ContentStore, options: GlobalOptions, privateTo: ID? = nil) async throws -> Int {
    let export = ContentExport(store: store)
    do {
        try await export.carBlocks(passed: [root], scope: scope) { _, _ in }
        return 0
    } catch ContentExport.Failure.notFound {
        // fetched below
    } catch { throw CLIError("\(error)") }
    let client = try options.client
    guard let url = URL(string: "\(client.base)/ipfs/\(root.text)?format=car&dag-scope=\(scope.rawValue)") else { throw CLIError("bad node URL \(client.base)") }
    var request = URLRequest(url: url, timeoutInterval: 3_600)
    request.setValue(CARv1.contentType, forHTTPHeaderField: "Accept")
    if privateTo != nil {
        guard let cookie = client.cookie else { throw CLIError("no admin cookie found; pass --data with the node's data directory") }
        request.setValue("Bearer \(cookie)", forHTTPHeaderField: "Authorization")
    }
    let file: URL, response: URLResponse
    // The node fetches the whole DAG before its CAR's first byte, into the store this process shares:
    // the progress line follows the store's bytes, against the DAG's size from its root's links.
    var progress = ProgressLine("fetching \(root.text.suffix(12))", total: nil, options: options)
    if progress.enabled && scope != .block, let total = try? await dagBytes(root, store: store, options: options, privateTo: privateTo) {
        progress = ProgressLine(progress.label, total: total, options: options)
    }
    let before = store.bytesUsedNow
    let shown = progress
    let watcher = shown.enabled ? Task {
        while !Task.isCancelled {
            let now = store.bytesUsedNow
            shown.set(now - min(before, now))
            try? await Task.sleep(for: .milliseconds(200))
        }
    } : nil
    defer {
        watcher?.cancel()
        shown.finish()
    }
    do { (file, response) = try await URLSession.shared.download(for: request) } catch {
        throw CLIError("\(root) is not in the content store, and the node at \(client.base) cannot be reached to fetch it (\(error.localizedDescription)); is 'ledgerd run' running?")
    }
    defer { try? FileManager.default.removeItem(at: file) }
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard status == 200 else {
        let body = (try? Data(contentsOf: file)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let message = (body?["error"] as? [String: Any])?["message"] as? String ?? "HTTP \(status)"
        throw CLIError("the node could not fetch \(root): \(message)")
    }
    guard let handle = try? FileHandle(forReadingFrom: file) else { throw CLIError("cannot read the downloaded CAR") }
    defer { try? handle.close() }
    var reader = CARv1.Reader()
    var stored = 0
    var batch: [(CID, [UInt8])] = []
    do {
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            reader.feed(Array(chunk))
            while let (cid, data) = try reader.next() {
                batch.append((cid, data))
                if batch.count == 64 {
                    try store.put(batch, privateTo: privateTo)
                    stored += batch.count
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        try store.put(batch, privateTo: privateTo)
        stored += batch.count
    } catch { throw CLIError("the node's CAR for \(root) is not valid: \(error)") }
    guard reader.atEnd, reader.roots == [root] else { throw CLIError("the node's CAR for \(root) is truncated or names other roots") }
    return stored
}

/// The size of `root`'s DAG as its links declare it (the root block and its links' Tsize), fetching the
/// root block alone through the node when it is not held; nil when that fails or it is not dag-pb.
func dagBytes(_ root: CID, store: ContentStore, options: GlobalOptions, privateTo: ID?) async throws -> UInt64? {
    guard root.codec == CID.dagPBCodec else { return nil }
    if try store.get(root) == nil { _ = try await ensureHeld(root, scope: .block, store: store, options: options, privateTo: privateTo) }
    guard let block = try store.get(root), let links = try? DagPB.links(of: block) else { return nil }
    // Sizes come from whoever built the DAG: a sum past 2^64 is no size at all.
    var total = UInt64(block.count)
    for link in links {
        let (sum, overflow) = total.addingReportingOverflow(link.totalSize)
        if overflow { return nil }
        total = sum
    }
    return total
}
