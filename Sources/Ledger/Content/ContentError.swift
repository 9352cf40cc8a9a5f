/// Why content could not be imported, stored or served, in one line.
public enum ContentError: Error, Equatable, CustomStringConvertible {
    case invalidOption(String)
    case invalidCID(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .invalidOption(let why): why
        case .invalidCID(let why): why
        case .malformed(let why): why
        }
    }
}
