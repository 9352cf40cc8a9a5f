import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one plus the client's address, which the
/// gateway's allowance per client needs (specs/usage.md §Gateway).
public struct NodeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
