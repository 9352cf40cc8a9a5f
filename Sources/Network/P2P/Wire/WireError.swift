/// A peer sent bytes that break a wire format: the connection is dropped and the peer scored.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case tooLarge(String)
    case closed

    public var description: String {
        switch self {
        case .malformed(let detail): "malformed frame: \(detail)"
        case .tooLarge(let detail): "frame too large: \(detail)"
        case .closed: "connection closed"
        }
    }
}
