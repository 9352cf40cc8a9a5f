import Foundation
import Ledger
import Storage
import Testing

/// The path gateway of a real ledgerd over loopback, serving what `ledgerctl ipfs add` put in its content
/// store: bytes, statuses, headers, ranges, revalidation, raw blocks, directories, and what a hostile
/// name or a damaged block gets.
@Suite(.serialized) struct GatewayTests {
    @Test func theGatewayServesStoredContentAsTheIPFSGatewaySpecsSay() async throws {
        let node = try NodeProcess(name: "gateway")
        let folder = Paths.temporaryFolder("gateway-files")
        var generator = SystemRandomNumberGenerator()
        let big = (0..<(3 * 262_144 + 17)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(big).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let site = folder + "/site", listing = folder + "/listing", victim = folder + "/victim"
        for directory in [site, listing, victim] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try Data("<!doctype html><p>home".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        try Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).write(to: URL(fileURLWithPath: listing + "/picture"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: listing + "/<img src=x onerror=alert(1)>"))
        func add(_ arguments: [String]) throws -> String {
            let result = try node.ctl(["ipfs", "add", "-Q"] + arguments)
            guard result.status == 0 else { throw TestFailure("ipfs add failed: \(result.error)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try Data("<!doctype html><p>to be damaged".utf8).write(to: URL(fileURLWithPath: victim + "/index.html"))
        let file = try add([folder + "/big.bin"]), siteCID = try add(["-r", site]), listingCID = try add(["-r", listing]), victimCID = try add(["-r", victim])
        // Alone, the node has nobody to fetch from: content it lacks is 504 after this one second.
        try node.start(extra: ["--fetch-timeout", "1"])
        let base = node.url + "/ipfs/"

        let whole = try await HTTP.get(base + file)
        #expect(whole.status == 200 && Array(whole.body) == big)
        #expect(whole.headers["etag"] == "\"\(file)\"" && whole.headers["x-ipfs-path"] == "/ipfs/\(file)" && whole.headers["x-ipfs-roots"] == file)
        #expect(whole.headers["cache-control"] == "public, max-age=29030400, immutable" && whole.headers["content-type"] == "application/octet-stream")
        let head = try await HTTP.request("HEAD", base + file)
        #expect(head.status == 200 && head.body.isEmpty && head.headers["content-length"] == "\(big.count)")

        // Ranges: across a chunk boundary, a suffix, an open end, and one outside the file.
        let across = try await HTTP.request("GET", base + file, headers: ["Range": "bytes=262140-262150"])
        #expect(across.status == 206 && Array(across.body) == Array(big[262_140...262_150]) && across.headers["content-range"] == "bytes 262140-262150/\(big.count)")
        let suffix = try await HTTP.request("GET", base + file, headers: ["Range": "bytes=-5"])
        #expect(suffix.status == 206 && Array(suffix.body) == Array(big.suffix(5)))
        let open = try await HTTP.request("GET", base + file, headers: ["Range": "bytes=786000-"])
        #expect(open.status == 206 && Array(open.body) == Array(big[786_000...]))
        let outside = try await HTTP.request("GET", base + file, headers: ["Range": "bytes=99999999-"])
        #expect(outside.status == 416 && outside.headers["content-range"] == "bytes */\(big.count)")

        let notModified = try await HTTP.request("GET", base + file, headers: ["If-None-Match": "\"\(file)\""])
        #expect(notModified.status == 304 && notModified.body.isEmpty)

        // The raw block: its bytes hash to the CID, and a browser is told not to sniff them.
        let raw = try await HTTP.get(base + file + "?format=raw")
        #expect(raw.status == 200 && raw.headers["content-type"] == "application/vnd.ipld.raw" && raw.headers["x-content-type-options"] == "nosniff")
        #expect(try CID(text: file).matches(Array(raw.body)) && raw.headers["etag"] == "\"\(file).raw\"")
        let accepted = try await HTTP.request("GET", base + file, headers: ["Accept": "application/vnd.ipld.raw"])
        #expect(accepted.body == raw.body)

        // A directory with index.html serves it; one without lists its entries, names escaped.
        let home = try await HTTP.get(base + siteCID + "/")
        #expect(home.status == 200 && home.text == "<!doctype html><p>home" && home.headers["content-type"] == "text/html; charset=utf-8")
        let index = try await HTTP.get(base + listingCID)
        #expect(index.status == 200 && index.text.contains("&lt;img src=x onerror=alert(1)&gt;") && !index.text.contains("<img"))
        let picture = try await HTTP.get(base + listingCID + "/picture")
        #expect(picture.status == 200 && picture.headers["content-type"] == "image/png" && picture.headers["x-ipfs-roots"]?.split(separator: ",").count == 2)

        // Refusals, each one JSON line.
        #expect(try await HTTP.get(base + "not-a-cid").status == 400)
        #expect(try await HTTP.get(base + "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o").status == 504)
        #expect(try await HTTP.get(base + listingCID + "/missing").status == 404)
        #expect(try await HTTP.get(base + file + "/below-a-file").status == 404)
        #expect(try await HTTP.get(base + file + "?format=tar").status == 406)
        #expect(try await HTTP.get(base + file + "?format=car&dag-scope=some").status == 400)

        // The file as a CAR: its four blocks, root first, each matching its CID, root named in the header.
        let car = try await HTTP.get(base + file + "?format=car")
        #expect(car.status == 200 && car.headers["content-type"] == "application/vnd.ipld.car; version=1" && car.headers["x-content-type-options"] == "nosniff")
        var reader = CARv1.Reader()
        reader.feed(Array(car.body))
        var cids: [CID] = []
        while let (cid, _) = try reader.next() { cids.append(cid) }
        let fileCID = try CID(text: file)
        #expect(reader.roots == [fileCID] && cids.count == 5 && cids.first == fileCID && reader.atEnd)

        // A block damaged on disk is refused, not served; the node goes on. (One never read before: a block
        // read twice is served from the verified-block cache, which holds its checked bytes.)
        let store = try SQLiteDatabase(path: node.data + "/content.sqlite")
        try store.execute("UPDATE blocks SET data = X'00' WHERE cid = X'\(Hex.encode(try CID(text: victimCID).bytes))'")
        let damaged = try await HTTP.get(base + victimCID + "/")
        #expect(damaged.status == 500 && damaged.json["error"] != nil)
        #expect(try await HTTP.get(node.url + "/api/v1/status").status == 200)
        _ = node.stop()
    }

    /// A HAMT-sharded directory (7,000 entries, past Kubo's threshold): names resolve through its shards,
    /// index.html is found, and `ipfs ls` and `ipfs get` see every entry.
    @Test func aShardedDirectoryIsServedListedAndWrittenOutWhole() async throws {
        let node = try NodeProcess(name: "gateway-hamt")
        let site = Paths.temporaryFolder("gateway-hamt") + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        for index in 0..<7_000 { try Data("entry \(index)\n".utf8).write(to: URL(fileURLWithPath: site + "/file-\(index).txt")) }
        try Data("<h1>sharded</h1>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        let added = try node.ctl(["ipfs", "add", "-Q", "-r", site])
        #expect(added.status == 0, "\(added.error)")
        let root = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        try node.start(extra: ["--fetch-timeout", "1"])
        defer { node.stop() }
        let base = node.url + "/ipfs/" + root
        for index in [0, 1, 4_242, 6_999] { #expect(try await HTTP.get(base + "/file-\(index).txt").text == "entry \(index)\n") }
        #expect(try await HTTP.get(base + "/").text == "<h1>sharded</h1>")
        #expect(try await HTTP.get(base + "/file-7000.txt").status == 404)
        let listed = try node.ctlJSON(["ipfs", "ls", root])["links"] as? [[String: Any]] ?? []
        #expect(listed.count == 7_001 && listed.contains { $0["name"] as? String == "file-4242.txt" })
        let out = Paths.temporaryFolder("gateway-hamt-out") + "/copy"
        #expect(try node.ctl(["ipfs", "get", root, "-o", out]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 7_001)
        #expect(try String(contentsOfFile: out + "/file-6999.txt", encoding: .utf8) == "entry 6999\n")
    }

    /// The cache of small hot files: served whole and in ranges as from the store, and never to a stranger
    /// once the file has become a private MiMei's (its root is checked on every request).
    @Test func aCachedFileIsServedExactlyAndHiddenOnceItIsMarkedPrivate() async throws {
        let node = try NodeProcess(name: "gateway-cache")
        let file = Paths.temporaryFolder("gateway-cache") + "/two-leaves.bin"
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let cid = try node.ctl(["ipfs", "add", "-Q", file]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try node.start()
        defer { node.stop() }
        let url = node.url + "/ipfs/" + cid
        for _ in 0..<3 { #expect(Array(try await HTTP.get(url).body) == bytes) }  // the second request fills the cache
        let part = try await HTTP.request("GET", url, headers: ["Range": "bytes=262140-262150"])
        #expect(part.status == 206 && Array(part.body) == Array(bytes[262_140...262_150]) && part.headers["content-range"] == "bytes 262140-262150/300000")
        #expect(try await HTTP.request("GET", url, headers: ["Range": "bytes=-5"]).body == Data(bytes.suffix(5)))
        #expect(try await HTTP.request("GET", url, headers: ["Range": "bytes=300000-"]).status == 416)
        #expect(try await HTTP.request("HEAD", url).headers["content-length"] == "300000")
        // The same CID becomes a private MiMei's version: strangers get 404, cache or not.
        let mid = try #require(try node.ctlJSON(["mimei", "create", "--private"])["mid"] as? String)
        #expect(try node.ctl(["mimei", "setcid", mid, cid]).status == 0)
        let refused = try await HTTP.get(url)
        #expect(refused.status == 404 && refused.body.count < 400)
        #expect(try await HTTP.request("GET", url, headers: ["Range": "bytes=0-9"]).status == 404)
    }
}
