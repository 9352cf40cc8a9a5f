import Foundation
import Testing

/// `ledgerctl ipfs add` from the command line: Kubo's output forms, and one clear line for each bad input.
@Suite struct IPFSAddCLITests {
    @Test func addPrintsWhatKuboPrints() throws {
        let folder = Paths.temporaryFolder("ipfs-add")
        let file = folder + "/hello.txt"
        try Data("hello world\n".utf8).write(to: URL(fileURLWithPath: file))
        let plain = try run(Paths.ledgerctl, ["ipfs", "add", "--only-hash", file])
        #expect(plain.status == 0 && plain.output == "added QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o hello.txt\n")
        let quiet = try run(Paths.ledgerctl, ["ipfs", "add", "-n", "-Q", "--cid-version", "1", file])
        #expect(quiet.output == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4\n")
        let json = try run(Paths.ledgerctl, ["--json", "ipfs", "add", "-n", file])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["cid"] as? String == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o" && object["bytes"] as? Int == 12 && object["size"] as? Int == 20)
        let chunked = try run(Paths.ledgerctl, ["ipfs", "add", "-n", "-Q", "--chunker", "size-5", file])
        #expect(chunked.status == 0 && chunked.output.hasPrefix("Qm") && chunked.output != quiet.output)
    }

    @Test func badInputGetsOneLine() throws {
        let folder = Paths.temporaryFolder("ipfs-add-bad")
        let file = folder + "/x"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for (arguments, reason) in [
            (["ipfs", "add", "-n", folder + "/missing"], "cannot open"),
            (["ipfs", "add", "-n", folder], "is a directory; add it with -r"),
            (["ipfs", "add", "-n", "-r", "-w", "/dev/null"], "neither a file, a directory nor a symlink"),
            (["ipfs", "add", "-n", "--chunker", "rabin", file], "chunker must be size-N"),
            (["ipfs", "add", "-n", "--chunker", "size-2000000", file], "chunk size must be 1 to 1048576"),
            (["ipfs", "add", "-n", "--cid-version", "2", file], "CID version must be 0 or 1"),
            (["--data", folder + "/no-such-dir", "ipfs", "add", file], "no data directory"),
            (["--data", folder, "ipfs", "cat", "QmNotACID"], "is not a CID"),
            (["--data", folder, "ipfs", "pin", "add", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"], "is not in this node's content store"),
            (["--data", folder, "ipfs", "pin", "rm", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"], "is not pinned"),
            (["--data", folder, "ipfs", "cat", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"], "is not in this node's content store"),
        ] {
            let result = try run(Paths.ledgerctl, arguments)
            #expect(result.status != 0 && result.output.isEmpty, "\(arguments)")
            let lines = result.error.split(separator: "\n")
            #expect(lines.count == 1 && result.error.contains(reason), "\(arguments): \(result.error)")
        }
    }

    /// Added content is stored and pinned, read back byte for byte by cat, kept by gc while pinned, freed
    /// after pin rm; a directory is refused by cat.
    @Test func addCatPinAndGarbageCollection() throws {
        let folder = Paths.temporaryFolder("ipfs-store")
        let file = folder + "/three-chunks"
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(2 * 262_144 + 999)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let data = ["--data", folder]
        let added = try run(Paths.ledgerctl, data + ["ipfs", "add", "-Q", file])
        let cid = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let hashed = try run(Paths.ledgerctl, ["ipfs", "add", "-n", "-Q", file])
        #expect(added.status == 0 && cid == hashed.output.trimmingCharacters(in: .whitespacesAndNewlines))
        let cat = try run(Paths.ledgerctl, data + ["ipfs", "cat", cid])
        #expect(cat.status == 0 && Array(cat.outputData) == bytes)
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "pin", "ls"]).output.contains("\(cid) recursive"))
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "repo", "gc"]).output == "removed 0 blocks, 0 bytes\n")
        let directory = try run(Paths.ledgerctl, data + ["ipfs", "add", "-Q", "-r", "-w", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "cat", directory]).error.contains("is a directory, not a file"))
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "pin", "rm", cid]).status == 0)
        // The wrapping directory still pins the file: nothing of it goes.
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "repo", "gc"]).output == "removed 0 blocks, 0 bytes\n")
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "pin", "rm", directory]).status == 0)
        let gc = try run(Paths.ledgerctl, data + ["--json", "ipfs", "repo", "gc"])
        let freed = try #require(try JSONSerialization.jsonObject(with: Data(gc.output.utf8)) as? [String: Any])
        #expect(freed["blocks_removed"] as? Int == 5 && (freed["bytes_freed"] as? Int ?? 0) > bytes.count)
        #expect(try run(Paths.ledgerctl, data + ["ipfs", "cat", cid]).status != 0)
    }
}
