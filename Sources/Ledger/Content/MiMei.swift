/// A MiMei (seeds 000 and 001; specs/content.md §MiMei): an information container with a fixed ID whose
/// numbered versions point at content. Its descriptor — author, type, application, extension, mark and
/// creation time — fixes the ID: the first 20 bytes (160 bits) of
/// TaggedHash("ledgerd/key/mimei", DAG-CBOR descriptor), written as a ledger ID (`ld1…`).
public struct MiMei: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case file, database
    }

    public let author: ID
    public let kind: Kind
    /// The application that opens it (an application MiMei's ID, or a name), at most 64 bytes.
    public let app: String
    /// A free extension (a file type, a tag), at most 64 bytes.
    public let ext: String
    /// A random number chosen at creation, so that two MiMei created alike still differ.
    public let mark: UInt64
    /// Creation time, milliseconds since 1970.
    public let created: UInt64
    /// Private MiMei are never served, synced or announced without a capability its author signed
    /// (`MiMeiCapability`; specs/content.md §Rights).
    public let isPrivate: Bool

    public static let textMax = 64

    public init(author: ID, kind: Kind = .file, app: String = "", ext: String = "", mark: UInt64, created: UInt64, isPrivate: Bool = false) throws(ContentError) {
        guard app.utf8.count <= Self.textMax, ext.utf8.count <= Self.textMax else {
            throw .invalidOption("a MiMei's app and ext are at most \(Self.textMax) bytes each")
        }
        self.author = author
        self.kind = kind
        self.app = app
        self.ext = ext
        self.mark = mark
        self.created = created
        self.isPrivate = isPrivate
    }

    public var cbor: CBOR {
        .map(["author": .bytes(author.bytes), "kind": .text(kind.rawValue), "app": .text(app), "ext": .text(ext),
              "mark": .unsigned(mark), "created": .unsigned(created), "private": .bool(isPrivate)])
    }

    public var encoded: [UInt8] { CBOREncoder.encode(cbor) }

    public var id: ID { ID.derived("mimei", data: encoded) }

    public init(cbor: CBOR) throws(ContentError) {
        guard case .map(let fields) = cbor, fields.count == 7, case .bytes(let author)? = fields["author"], let authorID = ID(bytes: author),
              author.count == ID.byteCount, case .text(let kindText)? = fields["kind"], let kind = Kind(rawValue: kindText),
              case .text(let app)? = fields["app"], case .text(let ext)? = fields["ext"], case .unsigned(let mark)? = fields["mark"],
              case .unsigned(let created)? = fields["created"], case .bool(let isPrivate)? = fields["private"]
        else { throw .malformed("not a MiMei descriptor {author, kind, app, ext, mark, created, private}") }
        try self.init(author: authorID, kind: kind, app: app, ext: ext, mark: mark, created: created, isPrivate: isPrivate)
    }

    /// The DHT key of its head: `/ledgerd/mimei/<MiMei ID>` (specs/p2p.md §Records), so that the ID alone
    /// finds it; the head names the author, and the descriptor binds the two.
    public var headKey: String { Self.headKey(id) }
    public static func headKey(_ id: ID) -> String { "/ledgerd/mimei/\(id.text)" }

    /// The DHT provider key of a MiMei: the sha2-256 multihash of its 20 ID bytes, as a CID's would be.
    public static func providerKey(_ id: ID) -> [UInt8] { [0x12, 0x20] + SHA256.hash(id.bytes).bytes }
}

/// A MiMei's head as its author publishes it: the descriptor, a version number and the CID it points at,
/// and an end of life (milliseconds since 1970; 168 hours after publishing by default). Carried as the
/// value of a DHT record under `MiMei.headKey`, signed by the author, whose `seq` is the version — so
/// of two heads the newer version wins.
public struct MiMeiHead: Equatable, Sendable {
    public let mimei: MiMei
    public let version: UInt64
    public let cid: CID
    public let endOfLife: UInt64

    public static let lifetimeDefaultMillis: UInt64 = 168 * 3_600_000

    public init(mimei: MiMei, version: UInt64, cid: CID, endOfLife: UInt64) throws(ContentError) {
        guard version >= 1 else { throw .invalidOption("MiMei versions are numbered from 1") }
        self.mimei = mimei
        self.version = version
        self.cid = cid
        self.endOfLife = endOfLife
    }

    public var encoded: [UInt8] {
        CBOREncoder.encode(.map(["mimei": mimei.cbor, "version": .unsigned(version), "cid": .bytes(cid.bytes), "eol": .unsigned(endOfLife)]))
    }

    /// Decodes a head and checks it belongs under `key`: the key names the descriptor's author and ID.
    public init(value: [UInt8], key: String) throws(ContentError) {
        guard let cbor = try? CBORDecoder.decode(value), case .map(let fields) = cbor, fields.count == 4, let descriptor = fields["mimei"],
              case .unsigned(let version)? = fields["version"], case .bytes(let cidBytes)? = fields["cid"], case .unsigned(let eol)? = fields["eol"]
        else { throw .malformed("not a MiMei head {mimei, version, cid, eol}") }
        let mimei = try MiMei(cbor: descriptor)
        guard mimei.headKey == key else { throw .malformed("the head is for \(mimei.headKey), not \(key.prefix(120))") }
        try self.init(mimei: mimei, version: version, cid: try CID(bytes: cidBytes), endOfLife: eol)
    }
}
