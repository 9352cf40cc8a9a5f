import Foundation
import Testing

/// The admin token is the data directory's `.cookie` (AdminAuth.swift). Written as the attack: an empty
/// cookie file must not turn a bare `Authorization: Bearer ` into an admin credential.
@Suite struct AdminCookieTests {
    /// Sends one request with exactly the Authorization header given (URLSession may tidy a header
    /// value; Python's http.client sends it byte for byte) and returns the status.
    static func status(_ url: String, path: String, authorization: String) throws -> Int {
        let script = """
            import http.client, sys, urllib.parse
            u = urllib.parse.urlparse(sys.argv[1])
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            c.putrequest("GET", sys.argv[2])
            c.putheader("Authorization", sys.argv[3])
            c.endheaders()
            print(c.getresponse().status)
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script, url, path, authorization])
        guard result.status == 0, let status = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("python3 request failed: \(result.error)")
        }
        return status
    }

    @Test func anEmptyCookieNeverAuthenticatesABareBearer() async throws {
        let node = try NodeProcess(name: "empty-cookie")
        try Data().write(to: URL(fileURLWithPath: node.data + "/.cookie"))
        try node.start()
        defer { node.stop() }
        for header in ["Bearer ", "Bearer", "Bearer  ", ""] {
            #expect(try Self.status(node.url, path: "/api/v1/admin/node-key", authorization: header) == 401, "'\(header)' authenticated")
        }
        #expect(try await HTTP.request("GET", node.url + "/api/v1/admin/node-key", token: "").status == 401)
        // The daemon wrote a fresh cookie (as bitcoind does), and that one works.
        let cookie = try node.cookie()
        #expect(cookie.count == 64, "cookie '\(cookie)'")
        #expect(try Self.status(node.url, path: "/api/v1/admin/node-key", authorization: "Bearer \(cookie)") == 200)
        #expect(node.log().contains("was missing or empty; wrote a new one"))
    }

    @Test func aMissingCookieIsRegeneratedAndAWrongOneRefused() async throws {
        let node = try NodeProcess(name: "no-cookie")
        try FileManager.default.removeItem(atPath: node.data + "/.cookie")
        try node.start()
        defer { node.stop() }
        let cookie = try node.cookie()
        #expect(cookie.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: node.data + "/.cookie")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try Self.status(node.url, path: "/api/v1/admin/node-key", authorization: "Bearer \(cookie)") == 200)
        #expect(try Self.status(node.url, path: "/api/v1/admin/node-key", authorization: "Bearer \(cookie.dropLast())") == 401)
        #expect(try Self.status(node.url, path: "/api/v1/admin/node-key", authorization: "Bearer \(cookie)0") == 401)
    }
}
