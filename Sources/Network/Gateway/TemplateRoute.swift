import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import NIOCore
import Ledger
import Storage

/// `/tpt/{mid}/…`: the template page for balanced access (seeds 000; specs/content.md §Template page). A
/// page of about 3 KB that lists the providers of the MiMei's current version with their gateway URLs,
/// probes them from the browser in parallel, and loads the site (`/mm/{mid}/…` on that gateway) from the
/// first that answers: whoever serves the template serves 3 KB, the site comes from whichever provider is
/// fastest for this reader, and a dead provider is passed over.
///
/// Providers are this node (when it holds the version) and the peers the DHT names for its root, each
/// with the `gateway` URLs of its signed `/ledgerd/addr/` record. A URL on a loopback or private address
/// is listed only to a client on loopback: a record anyone can sign must not make a stranger's browser
/// knock on the reader's own network.
public struct TemplateRoute: Sendable {
    let resolver: MiMeiResolver
    let dht: DHT?
    let store: ContentStore
    let announcer: GatewayAnnouncer?
    let selfID: ID

    /// Providers asked of the DHT, and URLs listed, at most.
    static let providersMax = 16
    static let urlsMax = 8

    public init(store: ContentStore, mimei: MiMeiStore, dht: DHT?, announcer: GatewayAnnouncer?, selfID: ID) {
        resolver = MiMeiResolver(store: mimei, dht: dht)
        self.dht = dht
        self.store = store
        self.announcer = announcer
        self.selfID = selfID
    }

    public func register(on router: Router<NodeRequestContext>) {
        for path in ["tpt/:mid", "tpt/:mid/**"] {
            router.get(RouterPath(path)) { request, context in try await page(request, context) }
        }
    }

    func page(_ request: Request, _ context: NodeRequestContext) async throws -> Response {
        let text = try context.parameters.require("mid")
        let resolved = try await resolver.resolve(text, version: nil)
        let rest = context.parameters.getCatchAll().joined(separator: "/")
        let urls = await gatewayURLs(for: resolved.cid, localClient: Self.isLoopback(context.remoteAddress))
        let site = "/mm/" + resolved.mimei.id.text + "/" + rest
        let (html, script) = Self.html(mimei: resolved.mimei.id.text, path: site, urls: urls)
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        // Only this page's own script runs; it may reach any http(s) gateway, and nothing else loads.
        let hash = Data(SHA256.hash(Array(script.utf8)).bytes).base64EncodedString()
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'sha256-\(hash)'; style-src 'unsafe-inline'; connect-src http: https:; base-uri 'none'; form-action 'none'"
        headers[GatewayRoutes.referrerPolicyHeader] = "no-referrer"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The gateway URLs of the version's providers: this node first when it holds the root.
    func gatewayURLs(for root: CID, localClient: Bool) async -> [String] {
        var found: [String] = []
        if (try? store.has(root)) == true, let announcer { found += await announcer.urls }
        if let dht {
            let peers = await dht.findProviders(ContentFetcher.providerKey(root), limit: Self.providersMax)
            let owners = peers.compactMap(\.ledgerID).filter { $0 != selfID }
            let lists = await withTaskGroup(of: [String].self) { group in
                for owner in owners {
                    group.addTask { (await dht.get("/ledgerd/addr/\(owner.text)")).map { GatewayAnnouncer.gatewayURLs(in: $0.value) } ?? [] }
                }
                var all: [[String]] = []
                for await list in group { all.append(list) }
                return all
            }
            for list in lists { found += list }
        }
        var seen = Set<String>()
        return Array(found.filter { url in
            guard seen.insert(url).inserted, let host = URL(string: url)?.host else { return false }
            return localClient || !Self.isLocalHost(host)
        }.prefix(Self.urlsMax))
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        switch address {
        case .v4(let v4)?: v4.host.hasPrefix("127.")
        case .v6(let v6)?: v6.host == "::1" || v6.host.hasPrefix("::ffff:127.")
        default: false
        }
    }

    /// Loopback, private, link-local, unique-local or unspecified hosts, `localhost`, and any address
    /// written other than as a canonical dotted quad or an IPv6 address (`127.1`, `2130706433`, `0177.0.0.1`:
    /// browsers read those as addresses too, so they are treated as local rather than guessed at).
    static func isLocalHost(_ host: String) -> Bool {
        var name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        while name.hasSuffix(".") { name.removeLast() }
        if name.isEmpty || name == "localhost" || name.hasSuffix(".localhost") { return true }
        var v6 = in6_addr()
        if name.contains(":") {
            guard inet_pton(AF_INET6, name, &v6) == 1 else { return true }
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return isLocalV4(Array(b[12..<16])) }
            if b[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
            if b[0] & 0xfe == 0xfc { return true }  // fc00::/7
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return true }  // fe80::/10
            if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return true }  // fec0::/10, site-local
            return false
        }
        // Letters and digits with a letter in the last label: a name, not an address.
        if let last = name.split(separator: ".").last, last.contains(where: \.isLetter), !name.hasPrefix("0x") { return false }
        var v4 = in_addr()
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ $0.count <= 3 && !$0.isEmpty && ($0 == "0" || !$0.hasPrefix("0")) }),
              inet_pton(AF_INET, name, &v4) == 1 else { return true }
        return isLocalV4(withUnsafeBytes(of: &v4) { Array($0) })
    }

    static func isLocalV4(_ octets: [UInt8]) -> Bool {
        switch (octets[0], octets[1]) {
        case (127, _), (10, _), (0, _), (169, 254), (192, 168): return true
        case (172, let second): return (16...31).contains(second)
        case (100, let second): return (64...127).contains(second)
        default: return octets[0] >= 224
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }

    /// A JavaScript string literal (JSON's, with `<` escaped so that no `</script>` can end the script).
    static func literal(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast()).replacingOccurrences(of: "<", with: "\\u003c")
    }

    /// The page and its script (whose hash the Content-Security-Policy names).
    static func html(mimei: String, path: String, urls: [String]) -> (String, String) {
        let items = urls.map { "<li data-u=\"\(escape($0))\">\(escape($0))</li>" }.joined()
        let script = """
            (function(){var path=\(literal(path)),s=document.getElementById('s'),items=[].slice.call(document.querySelectorAll('#p li')),done=false,left=items.length;
            if(!left){s.textContent='No provider is known for this MiMei.';return;}
            function fail(li){li.className='dead';if(--left===0&&!done)s.textContent='No provider answered.';}
            items.forEach(function(li){var u=li.getAttribute('data-u')+path,c=new AbortController(),t=setTimeout(function(){c.abort();},8000),t0=performance.now();
            fetch(u,{method:'HEAD',mode:'no-cors',cache:'no-store',signal:c.signal}).then(function(){clearTimeout(t);li.className='ok';li.textContent+=' \\u2014 '+Math.round(performance.now()-t0)+' ms';
            if(!done){done=true;s.textContent='Loading from '+li.getAttribute('data-u');location.replace(u+location.search);}},function(){clearTimeout(t);fail(li);});});})();
            """
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>MiMei \(escape(mimei))</title><style>body{font:15px system-ui,sans-serif;margin:2em;color:#222}li.ok{color:#070}li.dead{color:#999;text-decoration:line-through}</style></head>
            <body><h1>Loading MiMei</h1><p><code>\(escape(mimei))</code></p><p id="s">Asking \(urls.count) provider\(urls.count == 1 ? "" : "s")\u{2026}</p><ul id="p">\(items)</ul>
            <noscript>Open one of the providers above at \(escape(path)).</noscript><script>\(script)</script></body></html>
            """
        return (html, script)
    }
}
