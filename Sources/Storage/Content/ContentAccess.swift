import Ledger

/// Who is reading content (specs/content.md §Rights): the operator, who sees every block, or a reader
/// granted these private MiMei (none: a stranger), who sees public blocks and those MiMei's blocks only.
public enum ContentAccess: Sendable, Equatable {
    case all
    case granted(Set<ID>)

    public static let stranger = ContentAccess.granted([])
}
