import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to a node's HTTP API (specs/openapi.yaml) with plain JSON.
struct NodeClient: Sendable {
    let base: String
    let cookie: String?

    func get(_ path: String, admin: Bool = false) async throws -> [String: Any] {
        try await send("GET", path, body: nil, admin: admin)
    }

    func post(_ path: String, _ object: [String: Any], admin: Bool) async throws -> [String: Any] {
        try await send("POST", path, body: try JSONSerialization.data(withJSONObject: object), admin: admin)
    }

    /// Nil on 404, the object otherwise.
    func find(_ path: String, admin: Bool = false) async throws -> [String: Any]? {
        do { return try await get(path, admin: admin) } catch let error as APIFailure where error.status == 404 { return nil }
    }

    struct APIFailure: Error, CustomStringConvertible {
        let status: Int
        let code: String
        let message: String
        var description: String { "\(message) (\(code))" }
    }

    private func send(_ method: String, _ path: String, body: Data?, admin: Bool) async throws -> [String: Any] {
        guard let url = URL(string: base + path) else { throw CLIError("bad URL \(base + path)") }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if admin {
            guard let cookie else { throw CLIError("no admin cookie found; pass --data with the node's data directory") }
            request.setValue("Bearer \(cookie)", forHTTPHeaderField: "Authorization")
        }
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw CLIError("cannot reach the node at \(base) (\(error.localizedDescription)); is 'ledgerd run' running? (--node URL)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard (200..<300).contains(status) else {
            let error = object?["error"] as? [String: Any]
            throw APIFailure(status: status, code: error?["code"] as? String ?? "http_\(status)",
                             message: error?["message"] as? String ?? "the node answered HTTP \(status)")
        }
        guard let object else { throw CLIError("the node at \(base) did not answer with JSON") }
        return object
    }
}
