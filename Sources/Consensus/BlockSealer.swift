import Ledger

/// Turns a proposed header into seals from the bookkeeper set. The consensus issue fills this with
/// Tendermint's propose/prevote/precommit among elected bookkeepers; a node keeping the books alone is
/// the special case of a set of one, `SoloSealer`.
public protocol BlockSealer: Sendable {
    /// The ID this node proposes blocks as.
    var proposer: ID { get }
    /// Seals `header`, or throws if the bookkeepers do not finalize it.
    func seal(_ header: BlockHeader) async throws -> [Seal]
}

/// The sole bookkeeper: signs every header it proposes.
public struct SoloSealer: BlockSealer {
    private let key: SecretKey

    public init(key: SecretKey) { self.key = key }

    public var proposer: ID { key.publicKey.id }

    public func seal(_ header: BlockHeader) async throws -> [Seal] {
        [Seal(header: header, key: key)]
    }
}
