import Foundation
import Testing

/// Rights (specs/content.md §Rights) between three real ledgerd processes: A authors a private MiMei, B
/// holds a capability A signed for B's peer ID, C holds none. C learns nothing — no head in the DHT, no
/// provider record, 404 from A's and B's gateways exactly as for content that does not exist, DONT_HAVE
/// from their Bitswap, not even the size; B's capability does not work for C. B syncs with it, serves
/// the MiMei only to a bearer of a capability, and follows A's next version through the head exchange.
@Suite(.serialized) struct MiMeiRightsTests {
    @Test func aPrivateMiMeiIsReadOnlyWithACapabilityItsAuthorSigned() async throws {
        let a = try NodeProcess(name: "rights-a")
        try a.start(extra: ["--fetch-timeout", "3"])
        defer { a.stop() }
        let b = try NodeProcess(name: "rights-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "20"])
        defer { b.stop() }
        let c = try NodeProcess(name: "rights-c", genesisOf: a)
        try c.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "3"])
        defer { c.stop() }

        // A secret of 600,000 bytes: three leaves and a root; a stranger must not learn that number.
        let secretSize = 600_000
        let site = Paths.temporaryFolder("rights-site")
        try Data("<h1>private</h1>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        try Data((0..<secretSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: site + "/secret.bin"))
        let mid = try #require(try a.ctlJSON(["mimei", "create", "--private"])["mid"] as? String)
        let root = try #require(try a.ctlJSON(["mimei", "add", mid, site, "-r"])["cid"] as? String)
        let published = try a.ctlJSON(["mimei", "publish", mid])
        #expect(published["stored_on"] as? Int == 0)
        let links = try a.ctlJSON(["ipfs", "ls", root])["links"] as? [[String: Any]] ?? []
        let secretCID = try #require(links.first { $0["name"] as? String == "secret.bin" }?["cid"] as? String)
        // Wait past two announce rounds (5 s each), so that a root wrongly announced would be in the DHT.
        try await Task.sleep(for: .seconds(11))

        // C: nothing in the DHT, neither the head nor a provider of the root or the MiMei.
        let key = "/ledgerd/mimei/\(mid)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(try await HTTP.request("GET", c.url + "/api/v1/dht/value?key=" + key, token: try c.cookie()).status == 404)
        #expect((try await HTTP.request("GET", c.url + "/api/v1/dht/providers/" + root, token: try c.cookie()).json["providers"] as? [Any])?.isEmpty == true)
        let noSync = try c.ctl(["mimei", "sync", mid])
        #expect(noSync.status != 0)

        // A's gateway to a stranger: the MiMei as an unknown one, its blocks as absent ones, in every format.
        let unknownMiMei = try #require(try c.ctlJSON(["mimei", "create"])["mid"] as? String)
        let refused = try await HTTP.get(a.url + "/mm/" + mid + "/")
        let unknown = try await HTTP.get(a.url + "/mm/" + unknownMiMei + "/")
        #expect(refused.status == 404 && unknown.status == 404)
        #expect(refused.text.replacingOccurrences(of: mid, with: "ID") == unknown.text.replacingOccurrences(of: unknownMiMei, with: "ID"))
        for path in ["/ipfs/\(root)", "/ipfs/\(root)/secret.bin", "/ipfs/\(secretCID)", "/ipfs/\(secretCID)?format=raw", "/ipfs/\(root)?format=car",
                     "/ipfs/\(secretCID)?format=car&dag-scope=block", "/mm/\(mid)/secret.bin", "/mm/\(mid)/?format=car"] {
            for method in ["GET", "HEAD"] {
                let answer = try await HTTP.request(method, a.url + path)
                #expect(answer.status == 404, "\(method) \(path) gave \(answer.status)")
                #expect(!answer.text.contains("\(secretSize)") && answer.headers["x-ipfs-roots"] == nil && answer.headers["etag"] == nil, "\(method) \(path) told \(answer.headers) \(answer.text)")
                #expect(answer.headers["content-range"] == nil && (Int(answer.headers["content-length"] ?? "0") ?? 0) < 400)
            }
        }
        // The same for a range request, which would otherwise name the size in Content-Range.
        #expect(try await HTTP.request("GET", a.url + "/ipfs/\(secretCID)", headers: ["Range": "bytes=-1"]).headers["content-range"] == nil)

        // C asks over Bitswap (its gateway fetches from its peers): A answers DONT_HAVE, so C finds nothing.
        let cGet = try await HTTP.get(c.url + "/ipfs/" + secretCID + "?format=raw")
        #expect(cGet.status == 404, "C fetched a private block: \(cGet.status)")

        // Capabilities: B's names B's peer ID, so C cannot use it, on the exchange or on a gateway; a
        // forged one fails its signature.
        let capB = try #require(try a.ctlJSON(["mimei", "grant", mid, "--reader", b.peerID])["capability"] as? String)
        let stolen = try c.ctl(["mimei", "sync", mid, "--cap", capB])
        #expect(stolen.status != 0 && stolen.error.contains("another reader"), "C synced with B's capability: \(stolen.error)")
        #expect(try await HTTP.get(c.url + "/ipfs/" + secretCID + "?format=raw").status == 404)
        let replayed = try await HTTP.request("GET", a.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer " + capB])
        #expect(replayed.status == 403 && !replayed.text.contains("private"), "a reader's capability replayed on A's gateway: \(replayed.status)")
        // A self-signed capability for a MiMei A holds is refused exactly as one for a MiMei A does not hold.
        let othersPrivate = try #require(try c.ctlJSON(["mimei", "create", "--private"])["mid"] as? String)
        let selfSigned = try #require(try c.ctlJSON(["mimei", "grant", othersPrivate, "--bearer"])["capability"] as? String)
        let held = try await HTTP.get(a.url + "/mm/" + mid + "/?cap=" + selfSigned)
        let notHeld = try await HTTP.get(a.url + "/mm/" + othersPrivate + "/?cap=" + selfSigned)
        #expect(held.status == 403 && held.text == notHeld.text)
        let last = capB.index(before: capB.endIndex)
        let forged = String(capB[..<last]) + (capB[last] == "0" ? "1" : "0")
        #expect(try await HTTP.request("GET", a.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer " + forged]).status == 400)
        #expect(try await HTTP.request("GET", a.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer zz"]).status == 400)

        // A bearer capability opens A's gateway: header or query.
        let bearer = try #require(try a.ctlJSON(["mimei", "grant", mid, "--bearer", "--hours", "1"])["capability"] as? String)
        let home = try await HTTP.request("GET", a.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer " + bearer])
        #expect(home.status == 200 && home.text == "<h1>private</h1>")
        // Kept out of shared caches, and out of Referer headers.
        #expect(home.headers["cache-control"] == "private, no-store" && home.headers["vary"] == "Authorization" && home.headers["referrer-policy"] == "no-referrer")
        // A bearer capability is for gateways; over the exchange it syncs nothing.
        let bearerSync = try c.ctl(["mimei", "sync", mid, "--cap", bearer])
        #expect(bearerSync.status != 0 && bearerSync.error.contains("bearer"))
        let secret = try await HTTP.get(a.url + "/mm/" + mid + "/secret.bin?cap=" + bearer)
        #expect(secret.status == 200 && secret.body.count == secretSize)
        #expect(try await HTTP.get(a.url + "/ipfs/" + secretCID + "?format=raw&cap=" + bearer).status == 200)

        // B syncs with its capability (head and blocks by the exchange from A) and follows it.
        let synced = try b.ctlJSON(["mimei", "sync", mid, "--cap", capB])
        #expect(synced["version"] as? Int == 1 && synced["private"] as? Bool == true)
        #expect(try await HTTP.get(b.url + "/mm/" + mid + "/").status == 404)
        #expect(try await HTTP.get(b.url + "/ipfs/" + secretCID).status == 404)
        let atB = try await HTTP.request("GET", b.url + "/mm/" + mid + "/secret.bin", headers: ["Authorization": "Bearer " + bearer])
        #expect(atB.status == 200 && atB.body == secret.body)
        #expect(try await HTTP.request("GET", b.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer " + capB]).status == 403)
        // A stranger asking B's gateway for the blocks (B holds a capability, A would answer B) gets nothing:
        // B's public fetches go over Bitswap, which never carries a private block.
        #expect(try await HTTP.get(b.url + "/ipfs/" + root + "/secret.bin").status == 404)
        // B holds it now, and refuses C too.
        _ = try c.ctl(["swarm", "connect", b.p2pAddress])
        #expect(try await HTTP.get(c.url + "/ipfs/" + secretCID + "?format=raw").status == 404)
        #expect(try b.ctl(["mimei", "provide", mid]).status != 0)

        // Version 2 reaches B by the head exchange (never the DHT).
        try Data("<h1>private two</h1>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        #expect(try a.ctlJSON(["mimei", "add", mid, site, "-r"])["version"] as? Int == 2)
        #expect(try a.ctl(["mimei", "publish", mid]).status == 0)
        try await P2PNetworkTests.waitUntil("B follows the private MiMei to version 2", seconds: 60) {
            (try b.ctlJSON(["mimei", "show", mid])["local"] as? [[String: Any]])?.last?["version"] as? Int == 2
        }
        let two = try await HTTP.request("GET", b.url + "/mm/" + mid + "/", headers: ["Authorization": "Bearer " + bearer])
        #expect(two.text == "<h1>private two</h1>")
        #expect(try await HTTP.request("GET", c.url + "/api/v1/dht/value?key=" + key, token: try c.cookie()).status == 404)
    }
}
