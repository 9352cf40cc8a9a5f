import Hummingbird
import Ledger

/// Admin routes need `Authorization: Bearer <token>`, the token being the cookie file that
/// `ledgerd init` wrote into the data directory (as bitcoind does): whoever can read the data
/// directory can administer the node.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8))
        else {
            throw APIError(.unauthorized, "unauthorized", "admin API needs 'Authorization: Bearer <token>' with the token from the data directory's .cookie file")
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so response time does not reveal how much of a guess matched.
    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
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
