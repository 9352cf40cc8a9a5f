import Foundation
import Testing

/// Sites (specs/content.md §Apps): `ledgerctl app upload | publish | show` keep a web app's build as a
/// MiMei served at /mm/{mid}/, and /download serves the node's own executable with its CID.
@Suite(.serialized) struct AppTests {
    @Test func anAppIsUploadedAsAMiMeiVersionedAndServedAsASite() async throws {
        let node = try NodeProcess(name: "app")
        try node.start()
        defer { node.stop() }
        let build = Paths.temporaryFolder("app-build") + "/dav"
        try FileManager.default.createDirectory(atPath: build + "/assets", withIntermediateDirectories: true)
        try Data("<!DOCTYPE html><div id=app></div><script src=/assets/app.js></script>".utf8).write(to: URL(fileURLWithPath: build + "/index.html"))
        try Data("console.log(1)".utf8).write(to: URL(fileURLWithPath: build + "/assets/app.js"))
        try Data("#app{}".utf8).write(to: URL(fileURLWithPath: build + "/assets/app.css"))

        let first = try node.ctlJSON(["app", "upload", build])
        let mid = try #require(first["mid"] as? String)
        #expect(first["name"] as? String == "dav" && first["version"] as? Int == 1 && first["created"] as? Bool == true)
        // A second upload of the same name is the same app's next version.
        try Data("console.log(2)".utf8).write(to: URL(fileURLWithPath: build + "/assets/app.js"))
        let second = try node.ctlJSON(["app", "upload", build])
        #expect(second["mid"] as? String == mid && second["version"] as? Int == 2 && second["created"] as? Bool == false)

        let site = node.url + "/mm/" + mid
        let home = try await HTTP.get(site + "/")
        #expect(home.status == 200 && home.headers["content-type"]?.hasPrefix("text/html") == true && home.text.contains("id=app"))
        let script = try await HTTP.get(site + "/assets/app.js")
        #expect(script.text == "console.log(2)" && script.headers["content-type"]?.contains("javascript") == true)
        #expect(try await HTTP.get(site + "/assets/app.css").headers["content-type"]?.hasPrefix("text/css") == true)
        #expect(try await HTTP.get(site + "/settings/profile").text == home.text)  // the app's own route
        #expect(try await HTTP.get(site + "/assets/missing.js").status == 404)
        #expect(try await HTTP.get(site + "/assets/app.js?ver=1").text == "console.log(1)")

        let shown = try node.ctlJSON(["app", "show", "dav"])
        #expect(shown["mid"] as? String == mid && shown["version"] as? Int == 2 && (shown["versions"] as? [Any])?.count == 2)
        #expect(Set((shown["files"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }) == ["assets", "index.html"])
        let listed = try node.ctlJSON(["app", "show"])["apps"] as? [[String: Any]] ?? []
        #expect(listed.count == 1 && listed.first?["name"] as? String == "dav")
        #expect(try node.ctlJSON(["app", "show", mid, "--ver", "1"])["version"] as? Int == 1)
        // Publishing needs a peer to store the head on; alone, the node says so in one line.
        let published = try node.ctl(["app", "publish", "dav"])
        #expect(published.status == 0 || published.error.split(separator: "\n").count == 1)

        // Refused, in one line, changing nothing.
        let bare = Paths.temporaryFolder("app-bare")
        for (arguments, words) in [(["app", "upload", bare], "index.html"), (["app", "upload", build + "/index.html"], "not a directory"),
                                   (["app", "show", "nothing"], "no app named"), (["app", "publish", "ld1nope"], "no app")] {
            let refused = try node.ctl(arguments)
            #expect(refused.status != 0 && refused.error.contains(words), "\(arguments): \(refused.error)")
        }
        #expect((try node.ctlJSON(["app", "show"])["apps"] as? [Any])?.count == 1)
    }

    @Test func theNodeServesItsOwnExecutableWithItsCID() async throws {
        let node = try NodeProcess(name: "download")
        try node.start()
        defer { node.stop() }
        let download = try await HTTP.get(node.url + "/download")
        #expect(download.status == 200 && download.headers["content-disposition"]?.contains("ledgerd") == true)
        #expect(download.body == (try Data(contentsOf: URL(fileURLWithPath: Paths.ledgerd))))
        let saved = Paths.temporaryFolder("download") + "/ledgerd"
        try download.body.write(to: URL(fileURLWithPath: saved))
        let cid = try #require(try node.ctlJSON(["ipfs", "add", "--only-hash", saved])["cid"] as? String)
        #expect(download.headers["x-ipfs-path"] == "/ipfs/" + cid && download.headers["etag"] == "\"\(cid)\"")
        let head = try await HTTP.request("HEAD", node.url + "/download")
        #expect(head.status == 200 && head.headers["content-length"] == "\(download.body.count)")
        #expect(try await HTTP.request("GET", node.url + "/download", headers: ["If-None-Match": "\"\(cid)\""]).status == 304)
    }
}
