import Foundation
import Testing

/// MiMei between two real ledgerd processes: A creates one, adds a site and publishes it; B syncs it by
/// its ID alone (head from the DHT, content by Bitswap) and serves it at /mm/{mid}/ on its gateway,
/// index.html for unknown routes; A publishes version 2 and B, following, fetches it by itself.
@Suite(.serialized) struct MiMeiNetworkTests {
    @Test func aMiMeiPublishedByOneNodeIsSyncedByIDServedAndFollowedByAnother() async throws {
        let a = try NodeProcess(name: "mimei-a")
        try a.start()
        defer { a.stop() }
        let b = try NodeProcess(name: "mimei-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress])
        defer { b.stop() }
        let site = Paths.temporaryFolder("mimei-site")
        try Data("<h1>one</h1>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        try Data("body{}".utf8).write(to: URL(fileURLWithPath: site + "/app.css"))
        let mid = try #require(try a.ctlJSON(["mimei", "create", "--app", "site"])["mid"] as? String)
        #expect(try a.ctlJSON(["mimei", "add", mid, site, "-r"])["version"] as? Int == 1)
        let published = try a.ctl(["mimei", "publish", mid])
        #expect(published.status == 0, "\(published.error)")
        // B knows nothing but the ID.
        let synced = try b.ctlJSON(["mimei", "sync", mid])
        #expect(synced["version"] as? Int == 1)
        let home = try await HTTP.get(b.url + "/mm/" + mid + "/")
        #expect(home.status == 200 && home.text == "<h1>one</h1>" && home.headers["x-mimei-version"] == "1")
        let route = try await HTTP.get(b.url + "/mm/" + mid + "/some/route")
        #expect(route.status == 200 && route.text == "<h1>one</h1>")
        #expect(try await HTTP.get(b.url + "/mm/" + mid + "/missing.js").status == 404)
        #expect(try await HTTP.get(b.url + "/mm/" + mid + "/app.css").headers["content-type"]?.hasPrefix("text/css") == true)
        #expect(try await HTTP.get(b.url + "/mm/not-an-id/").status == 400)
        let shown = try b.ctlJSON(["mimei", "show", mid])
        #expect(shown["compare"] as? String == "same" && shown["author"] as? String != nil)
        // Version 2: B's follower fetches it within its rounds, and keeps it (show: same again).
        try Data("<h1>two</h1>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        #expect(try a.ctlJSON(["mimei", "add", mid, site, "-r"])["version"] as? Int == 2)
        #expect(try a.ctl(["mimei", "publish", mid]).status == 0)
        try await P2PNetworkTests.waitUntil("B follows A's MiMei to version 2", seconds: 60) {
            (try b.ctlJSON(["mimei", "show", mid])["local"] as? [[String: Any]])?.last?["version"] as? Int == 2
        }
        let two = try await HTTP.get(b.url + "/mm/" + mid + "/?ver=2")
        #expect(two.text == "<h1>two</h1>" && two.headers["cache-control"]?.contains("immutable") == true)
        let old = try await HTTP.get(b.url + "/mm/" + mid + "/?ver=1")
        #expect(old.text == "<h1>one</h1>")
        let providers = try b.ctlJSON(["mimei", "findprovs", mid])["providers"] as? [[String: Any]] ?? []
        #expect(providers.contains { $0["peer_id"] as? String == a.peerID })
        // Only the author can publish it.
        let forged = try b.ctl(["mimei", "publish", mid])
        #expect(forged.status != 0 && forged.error.contains("author"))
    }
}
