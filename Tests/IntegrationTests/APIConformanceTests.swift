import Foundation
import Testing

/// What schemathesis found against a real `ledgerd`, pinned as plain requests so that each fix stays
/// fixed whatever the fuzzer's seed: every error is one JSON line of the documented shape and status.
@Suite struct APIConformanceTests {
    static func expectError(_ answer: HTTP.Answer, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == status, "\(answer.status) \(answer.text)", sourceLocation: sourceLocation)
        #expect(answer.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        let error = answer.json["error"] as? [String: Any]
        #expect(error?["code"] as? String == code, "\(answer.text)", sourceLocation: sourceLocation)
        let message = error?["message"] as? String ?? "\n"
        #expect(!message.contains("\n") && !message.contains("\r") && message.unicodeScalars.count <= 300, "\(answer.text)", sourceLocation: sourceLocation)
    }

    @Test func schemathesisFindingsStayFixed() async throws {
        let node = try NodeProcess(name: "conformance")
        try node.start()
        defer { node.stop() }
        let token = try node.cookie()
        let alice = try node.ctlJSON(["key", "new", "alice"])["id"] as? String ?? ""

        // Dialing the node's own address was a 502 (a server error); it is the caller's mistake: 400.
        let own = try JSONSerialization.data(withJSONObject: ["address": node.p2pAddress])
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/swarm/connect", body: own, token: token), 400, "bad_request")
        #expect(try await HTTP.get(node.url + "/api/v1/status").status == 200)

        // Error messages echoed raw input, newlines included: now one line, the echo cut to 64 characters.
        let hostile = "%C3%A0%0A%7D" + String(repeating: "x", count: 5000)
        Self.expectError(try await HTTP.get(node.url + "/api/v1/credit-lines?from=\(hostile)"), 400, "bad_request")
        Self.expectError(try await HTTP.get(node.url + "/api/v1/credit-path?from=\(hostile)&to=\(alice)&amount=1"), 400, "bad_request")
        Self.expectError(try await HTTP.get(node.url + "/api/v1/accounts/ld1%0A%0Dbad"), 400, "bad_request")
        Self.expectError(try await HTTP.get(node.url + "/api/v1/blocks?before=1%0A2"), 400, "bad_request")
        let key = try JSONSerialization.data(withJSONObject: ["key": "not\na\nkey" + String(repeating: "y", count: 5000)])
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/dht/provide", body: key, token: token), 400, "bad_request")
        let address = try JSONSerialization.data(withJSONObject: ["address": "/ip4/\n127.0.0.1"])
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/swarm/connect", body: address, token: token), 400, "bad_request")
        let peer = try JSONSerialization.data(withJSONObject: ["peer": "Qm\n\u{2028}x"])
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/swarm/disconnect", body: peer, token: token), 400, "bad_request")

        // 400 versus 413 (specs/openapi.yaml, Errors): a body over 64 KiB is 413 too_large before parsing;
        // a transaction over 16 KiB in a body under 64 KiB is 400 too_large.
        let huge = Data("{\"tx\":\"\(String(repeating: "00", count: 40_000))\"}".utf8)
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/transactions", body: huge, token: token), 413, "too_large")
        let big = Data("{\"tx\":\"\(String(repeating: "00", count: 20_000))\"}".utf8)
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/transactions", body: big, token: token), 400, "too_large")
        let bigKey = Data("{\"key\":\"\(String(repeating: "a", count: 70_000))\"}".utf8)
        Self.expectError(try await HTTP.request("POST", node.url + "/api/v1/admin/dht/provide", body: bigKey, token: token), 413, "too_large")
        Self.expectError(try await HTTP.request("GET", node.url + "/api/v1/admin/node-key", token: "wrong"), 401, "unauthorized")
        Self.expectError(try await HTTP.get(node.url + "/api/v1/organizations/\(alice)"), 404, "not_found")

        // Explorer pages for a malformed reference: 400 with an HTML page (documented now), 404 for none.
        for path in ["/block/p", "/tx/0", "/org/%C3%B3", "/org/\(alice)/income/x%0A"] {
            let answer = try await HTTP.get(node.url + path)
            #expect(answer.status == 400 && answer.headers["content-type"]?.hasPrefix("text/html") == true, "\(path): \(answer.status)")
        }
        #expect(try await HTTP.get(node.url + "/block/999").status == 404)
        #expect(try await HTTP.get(node.url + "/org/\(alice)").status == 404)
    }
}
