import Hummingbird
import Ledger
import Storage

/// Admin routes need `Authorization: Bearer <token>`, the token being the cookie file that
/// `ledgerd init` wrote into the data directory (as bitcoind does): whoever can read the data
/// directory can administer the node.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard AdminToken.authenticates(request.headers[.authorization], token: token) else {
            throw APIError(.unauthorized, "unauthorized", "admin API needs 'Authorization: Bearer <token>' with the token from the data directory's .cookie file")
        }
        return try await next(request, context)
    }
}

/// Checks an `Authorization` header against the admin token.
enum AdminToken {
    /// Whether an Authorization header carries the token. An empty token never authenticates (an empty
    /// cookie file must not make a bare `Bearer ` an admin credential), whatever the header says.
    static func authenticates(_ header: String?, token: String) -> Bool {
        guard !token.isEmpty, let header, header.hasPrefix("Bearer ") else { return false }
        let presented = Array(header.utf8.dropFirst(7))
        return !presented.isEmpty && constantTimeEqual(presented, Array(token.utf8))
    }

    /// Compares without an early exit, so response time does not reveal how much of a guess matched
    /// (only the length, which is public: the cookie is always 64 hex characters).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// The admin cookie as `ledgerd run` loads it. As bitcoind does with its `.cookie`, the daemon owns the
/// file: when it is missing or empty (a truncated copy, a botched restore), the daemon writes a fresh
/// random token (owner-only) rather than serving an admin API that an empty token would guard.
public enum AdminCookie {
    /// The token, and whether it had to be written anew.
    public static func load(_ directory: DataDirectory) throws -> (token: String, regenerated: Bool) {
        if let token = try? directory.readCookie(), !token.isEmpty { return (token, false) }
        try DataDirectory.writeSecret(Hex.encode(SecretKey.generate().bytes) + "\n", to: directory.cookiePath)
        let token = try directory.readCookie()
        guard !token.isEmpty else { throw DataDirectory.Failure("cannot write the admin cookie \(directory.cookiePath)") }
        return (token, true)
    }
}

/// What the API reports about this node besides its ledger.
public struct NodeInfo: Sendable {
    public let nodeKey: PublicKey
    public let version: String
    public let p2pAddress: String
    /// The genesis file, served so that a client can replay the chain from its start.
    public let genesisJSON: String

    public init(nodeKey: PublicKey, version: String, p2pAddress: String, genesisJSON: String = "{}") {
        self.nodeKey = nodeKey
        self.version = version
        self.p2pAddress = p2pAddress
        self.genesisJSON = genesisJSON
    }
}
