import Testing
@testable import LedgerNetwork

/// Which gateway URLs the template page lists to strangers (specs/content.md §Template page): any way of
/// writing a loopback, private or link-local address is local — browsers read `127.1`, `2130706433`,
/// `0177.0.0.1` and mapped IPv6 as addresses — and names and public addresses are not.
@Suite struct TemplateRouteTests {
    @Test func localHostsAreRecognisedHoweverTheyAreWritten() {
        for local in ["localhost", "LOCALHOST.", "a.localhost", "127.0.0.1", "127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "10.1.2.3",
                      "172.16.0.1", "192.168.1.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "::1", "[::1]", "[0:0:0:0:0:0:0:1]",
                      "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "fc00::1", "fd12::1", "fe80::1", "fec0::1", "::", "224.0.0.1", "1.2.3", "1.2.3.4.5"] {
            #expect(TemplateRoute.isLocalHost(local), "\(local) should be local")
        }
        for public_ in ["example.com", "gateway.example.org.", "8.8.8.8", "172.32.0.1", "[2001:db8::1]", "[::ffff:8.8.8.8]", "ipfs.io"] {
            #expect(!TemplateRoute.isLocalHost(public_), "\(public_) should be public")
        }
    }

    @Test func thePageEscapesWhatItIsGiven() {
        let (html, script) = TemplateRoute.html(mimei: "ld1<x>", path: "/mm/</script><b>", urls: ["http://a.example/\"><img src=x>"])
        #expect(!html.contains("<img") && !html.contains("<b>") && !script.contains("</script>"))
        #expect(html.contains("&quot;&gt;&lt;img") && script.contains("\\u003c/script>"))
    }
}
