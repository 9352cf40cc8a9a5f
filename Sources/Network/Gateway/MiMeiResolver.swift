import Ledger
import Storage

/// Which CID a `/mm/{mid}` request means (specs/content.md §MiMei): the version asked for (`?ver=N`,
/// `last` or `cur`, by default the last), from the versions this node holds or, for the last, from the
/// author's head in the DHT when that is newer. Nothing is recorded or pinned for a MiMei this node
/// does not follow: a stranger's request cannot make it keep content.
public struct MiMeiResolver: Sendable {
    let store: MiMeiStore
    let dht: DHT?

    public init(store: MiMeiStore, dht: DHT?) {
        self.store = store
        self.dht = dht
    }

    public struct Resolved: Sendable {
        public let mimei: MiMei
        public let version: UInt64
        public let cid: CID
        /// Whether a numbered version was asked for (its content never changes).
        public let pinnedVersion: Bool
    }

    /// `access`: the private MiMei the request holds capabilities for. Any other private MiMei is answered
    /// exactly as one not known at all, and its head is never looked for in the DHT.
    public func resolve(_ text: String, version: String?, access: ContentAccess = .stranger) async throws -> Resolved {
        let id: ID
        do { id = try ID(text: text) } catch { throw APIError(.badRequest, "bad_mimei", "\(text.prefix(64)) is not a MiMei ID (ld1…)") }
        var number: UInt64?
        if let version, version != "last", version != "cur" {
            guard let parsed = UInt64(version), parsed >= 1 else { throw APIError(.badRequest, "bad_version", "ver must be a version number, last or cur") }
            number = parsed
        }
        let local: (MiMei?, [MiMeiStore.Version])
        do { local = (try store.mimei(id), try store.versions(id)) } catch { throw APIError(.internalServerError, "store", "\(error)") }
        var mimei = local.0
        let unknown = APIError(.notFound, "not_found", "MiMei \(id) is not known here or in the DHT")
        if let held = mimei, held.isPrivate, !Self.grants(access, id) { throw unknown }
        var best = number.flatMap { wanted in local.1.first { $0.number == wanted } } ?? (number == nil ? local.1.last : nil)
        // The network's head, when the last is asked for or the version asked for is not here.
        if mimei?.isPrivate != true, number == nil || best == nil, let dht, let record = await dht.get(MiMei.headKey(id)),
           let head = try? MiMeiHead(value: record.value, key: record.key) {
            if mimei == nil { mimei = head.mimei }
            if number == nil ? head.version > (best?.number ?? 0) : head.version == number {
                best = MiMeiStore.Version(number: head.version, cid: head.cid, endOfLife: head.endOfLife)
            }
        }
        // A private descriptor from the DHT (its author put the head there by hand) is treated as unknown too.
        guard let mimei, !mimei.isPrivate || Self.grants(access, id) else { throw unknown }
        guard let best else { throw APIError(.notFound, "not_found", "MiMei \(id) has no version \(number.map(String.init) ?? "yet")") }
        return Resolved(mimei: mimei, version: best.number, cid: best.cid, pinnedVersion: number != nil)
    }

    static func grants(_ access: ContentAccess, _ id: ID) -> Bool {
        switch access {
        case .all: true
        case .granted(let mimei): mimei.contains(id)
        }
    }
}
