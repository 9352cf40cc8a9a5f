import Foundation
import Testing
import Credit
import Ledger

/// The explorer's pages, opened in headless Chromium (Debian's `chromium`): they render with their
/// content, and their links lead where they say.
@Suite(.serialized) struct ExplorerTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM after Chromium loaded (and followed redirects for) the page.
    func dom(_ url: String) throws -> String {
        let chromium = try #require(Self.chromium, "Chromium is not installed; `make test` installs it")
        let profile = Paths.temporaryFolder("chromium")
        let result = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile)",
                                        "--virtual-time-budget=3000", "--dump-dom", url])
        #expect(result.status == 0, "chromium failed: \(result.error.suffix(500))")
        return result.output
    }

    func links(_ html: String) -> [String] {
        html.components(separatedBy: "href=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    @Test func pagesRenderWithTheirContentAndLinks() async throws {
        let node = try NodeProcess(name: "explorer")
        try node.start()
        defer { node.stop() }
        _ = try node.ctlJSON(["key", "new", "alice"])
        let org = try node.ctlJSON(["org", "create", "--name", "Open <Video>", "--description", "made by its members"])
        let orgID = org["organization"] as! String
        _ = try node.ctlJSON(["credit", "grant", "--to", "alice", "--limit", "10GiB"])
        let transfer = try node.ctlJSON(["transfer", "--to", "alice", "--amount", "3GiB"])
        let me = try node.ctlJSON(["key"])["id"] as! String
        let alice = try node.ctlJSON(["key", "--as", "alice"])["id"] as! String

        let home = try dom(node.url + "/")
        #expect(home.contains("Latest blocks") && home.contains("id=\"blocks\""))
        #expect(links(home).contains("/block/3") && links(home).contains("/org/\(orgID)"))
        #expect(home.contains("Open &lt;Video&gt;"), "organization names are escaped, not injected")
        #expect(home.contains("id=\"peers\"") && home.contains("0 connected"), "the home page shows the node's peers")

        let block = try dom(node.url + "/block/1")
        #expect(block.contains("Block 1") && block.contains("org.create"))
        #expect(links(block).contains("/block/0") && links(block).contains { $0.hasPrefix("/tx/") })

        let tx = try dom(node.url + "/tx/\(transfer["id"] as! String)")
        #expect(tx.contains("transfer") && tx.contains("3221225472"))
        #expect(links(tx).contains("/account/\(alice)") && links(tx).contains("/block/3"))

        let account = try dom(node.url + "/account/\(me)")
        #expect(account.contains("Credit given") && account.contains("10.00 GiB") && account.contains("supervisor"))
        #expect(links(account).contains("/account/\(alice)") && links(account).contains("/org/\(orgID)"))
        let aliceDOM = try dom(node.url + "/account/\(alice)")
        #expect(aliceDOM.contains("3.00 GiB") && aliceDOM.contains("Credit received"))

        let organization = try dom(node.url + "/org/\(orgID)")
        #expect(organization.contains("Open &lt;Video&gt;") && organization.contains("made by its members") && organization.contains("supervisor"))
        #expect(links(organization).contains("/account/\(me)"))

        // The search box: a height, an ID, a block hash; and something that matches nothing.
        #expect(try dom(node.url + "/search?q=2").contains("Block 2"))
        #expect(try dom(node.url + "/search?q=\(orgID)").contains("made by its members"))
        let hash = try node.ctlJSON(["block", "show", "1"])["hash"] as! String
        #expect(try dom(node.url + "/search?q=\(hash)").contains("Block 1"))
        let missing = try dom(node.url + "/search?q=nothing-here")
        #expect(missing.contains("Nothing matches"))
        #expect(try dom(node.url + "/block/999").contains("not found"))

        // Every link on the home page leads to a page that answers.
        for link in Set(links(home)) where link.hasPrefix("/") {
            let answer = try await HTTP.get(node.url + link)
            #expect(answer.status == 200, "\(link) answered \(answer.status)")
        }
    }
}
