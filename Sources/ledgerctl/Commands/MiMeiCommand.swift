import ArgumentParser
import Foundation
import Ledger
import Storage

struct MiMeiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimei",
        abstract: "MiMei: containers with a fixed ID whose numbered versions point at content (as Leither's mimei commands).",
        discussion: """
            A MiMei's ID comes from its author, type, application, extension, mark and creation time. add and
            setcid make a new version; publish signs the head (ID, version, CID, end of life) into the DHT; sync
            fetches another node's MiMei by its ID alone and follows it; provide announces that this node holds
            it. Versions: a number, last (the newest) or cur (this node's newest, the same here).
            A private MiMei (create --private) is never put into the DHT or announced: its author grants
            readers capabilities (grant), which sync presents to the peers it asks and the gateway takes
            as 'Authorization: Bearer <capability>' or '?cap=<capability>'.
            Example: ledgerctl mimei create; ledgerctl mimei add ld1… site/ -r; ledgerctl mimei publish ld1…
            """,
        subcommands: [Create.self, Add.self, SetCID.self, Publish.self, Show.self, Get.self, Sync.self, Provide.self, FindProviders.self, Grant.self,
                      DatabaseCommand.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a MiMei authored by the node's key (or --as).")
        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("file or database.", valueName: "type")) var type = "file"
        @Option(name: [.customShort("a"), .long], help: "The application that opens it (an app MiMei ID or a name).") var app = ""
        @Option(help: "An extension: a file type or tag.") var ext = ""
        @Flag(help: "Private: never served, synced, announced or listed without a capability its author signed (see grant).") var `private` = false

        func run() async throws {
            guard let kind = MiMei.Kind(rawValue: type) else { throw CLIError("--type must be file or database") }
            let author = try options.key()
            let mimei: MiMei
            do {
                mimei = try MiMei(author: author.publicKey.id, kind: kind, app: app, ext: ext, mark: UInt64.random(in: 0...UInt64.max),
                                  created: UInt64(Date().timeIntervalSince1970 * 1000), isPrivate: `private`)
                try options.mimeiStore.add(mimei)
            } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            options.output(describe(mimei)) { "created MiMei \(mimei.id.text)" }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a file (or with -r a directory) as the MiMei's next version.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Argument(help: "The file or directory.") var path: String
        @Flag(name: [.short, .long], help: "Add a directory and everything in it.") var recursive = false
        @Flag(name: [.customShort("H"), .long], help: "With -r, include files whose names begin with a dot.") var hidden = false

        func run() async throws {
            let id = try parseMiMei(mid)
            let store = try options.mimeiStore
            guard let mimei = try known(store, id) else { throw CLIError(MiMeiStore.Failure.unknown(id).description) }
            let adding = ContentImport(options: try UnixFSImporter.Options(), recursive: recursive, hidden: hidden)
            let progress = ProgressLine("adding \(URL(fileURLWithPath: path).lastPathComponent)", total: ProgressLine.fileBytes(path, hidden: hidden), options: options)
            let (root, bytes) = try storeImport(adding, path, into: store.content, privateTo: mimei.isPrivate ? id : nil, progress: progress)
            let version = try cli { try store.addVersion(id, cid: root.cid) }
            options.output(["mid": id.text, "cid": root.cid.text, "version": version, "bytes": bytes]) { "added /ipfs/\(root.cid.text) as version \(version) of \(id.text)" }
        }
    }

    struct SetCID: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "setcid", abstract: "Point the MiMei's next version at a CID.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Argument(help: "The CID.") var cid: String

        func run() async throws {
            let id = try parseMiMei(mid), root = try parseCID(cid)
            let store = try options.mimeiStore
            guard try known(store, id) != nil else { throw CLIError(MiMeiStore.Failure.unknown(id).description) }
            let version = try cli { try store.addVersion(id, cid: root) }
            options.output(["mid": id.text, "cid": root.text, "version": version]) { "version \(version) of \(id.text) is \(root.text)" }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "publish", abstract: "Sign the MiMei's last version into the DHT and announce this node as its provider.",
                                                        discussion: "A private MiMei's head is kept here only, for readers with a capability to ask for.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Option(help: "Hours until the head expires (default 168).") var eol = 168

        func run() async throws { try await publishMiMei(try parseMiMei(mid), eolHours: eol, options: options) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The MiMei's descriptor, its versions here and on the network, and which is newer.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String

        func run() async throws {
            let id = try parseMiMei(mid)
            let store = try options.mimeiStore
            let local = try known(store, id)
            let versions = try cli { try store.versions(id) }
            // A private MiMei's head is not in the DHT, and asking for it there would tell the network its ID.
            let net = local?.isPrivate == true ? nil : try await networkHead(id, options: options)
            guard let mimei = local ?? net?.mimei else { throw CLIError("no MiMei \(id.text) here or in the DHT") }
            var conflict: String?
            if let net, let same = versions.first(where: { $0.number == net.version }), same.cid != net.cid {
                conflict = "version \(net.version) is \(same.cid.text) here and \(net.cid.text) on the network"
            }
            let localLast = versions.last?.number ?? 0
            let compare = net.map { $0.version == localLast ? "same" : $0.version > localLast ? "network newer" : "local newer" } ?? "not on the network"
            var view = describe(mimei)
            view["local"] = versions.map { ["version": $0.number, "cid": $0.cid.text] }
            view["network"] = net.map { ["version": $0.version, "cid": $0.cid.text, "eol": $0.endOfLife] } as Any? ?? NSNull()
            view["conflict"] = conflict ?? NSNull()
            view["compare"] = compare
            options.output(view) {
                var lines = ["MiMei   \(id.text)", "Author  \(mimei.author.text)", "Type    \(mimei.kind.rawValue)", "App     \(mimei.app)", "Ext     \(mimei.ext)",
                             "Mark    \(mimei.mark)", "Created \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(mimei.created) / 1000)))",
                             "Private \(mimei.isPrivate)", "", "from local"]
                lines += versions.map { "\($0.number)\t\($0.cid.text)" } + ["last\t\(versions.last.map { "\($0.number)" } ?? "none")", "", "from net"]
                lines += net.map { ["\($0.version)\t\($0.cid.text)", "last\t\($0.version)"] } ?? ["none"]
                lines += ["", "conflict", conflict ?? "no conflict", "", "compare version", compare]
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "A version's content: a file to standard output, or to --output.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Option(help: "A version number, last or cur (default last).") var ver = "last"
        @Option(name: [.short, .long], help: ArgumentHelp("Write it here (a directory needs this).", valueName: "path")) var output: String?

        func run() async throws {
            let id = try parseMiMei(mid)
            let store = try options.mimeiStore
            var versions = try cli { try store.versions(id) }
            if try known(store, id)?.isPrivate != true, versions.isEmpty || ver == "last", let net = try await networkHead(id, options: options),
               net.version > (versions.last?.number ?? 0) {
                versions.append(.init(number: net.version, cid: net.cid, endOfLife: net.endOfLife))
            }
            let chosen: MiMeiStore.Version?
            if ver == "last" || ver == "cur" { chosen = versions.last } else if let number = UInt64(ver) { chosen = versions.first { $0.number == number } } else {
                throw CLIError("--ver must be a version number, last or cur")
            }
            guard let chosen else { throw CLIError("\(id.text) has no version \(ver) here or on the network") }
            _ = try await ensureHeld(chosen.cid, scope: .all, store: store.content, options: options)
            let export = ContentExport(store: store.content)
            if let output {
                do { try await ContentWrite(export: export).write(chosen.cid, to: output) } catch { throw CLIError("\(error)") }
                if options.json { print(JSONText.render(["mid": id.text, "version": chosen.number, "cid": chosen.cid.text, "path": output])) }
                return
            }
            do { try await export.file(chosen.cid) { FileHandle.standardOutput.write(Data($0)) } } catch { throw CLIError("\(error); give --output for a directory") }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sync", abstract: "Fetch a MiMei by its ID alone (head from the DHT, content by Bitswap) and follow it.",
                                                        discussion: "A private MiMei needs --cap: its head is asked of the connected peers, presenting the capability.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Option(name: .customLong("cap"), help: "A capability its author granted this node (for a private MiMei).") var capability: String?

        func run() async throws {
            let id = try parseMiMei(mid)
            if let capability {
                try await syncPrivate(id, capability: try parseCapability(capability, for: id))
                return
            }
            guard let head = try await networkHead(id, options: options) else { throw CLIError("no head for \(id.text) in the DHT; has its author published it? (a private MiMei needs --cap)") }
            guard !head.mimei.isPrivate else { throw CLIError("\(id.text) is private: sync it with --cap, a capability its author granted") }
            let store = try options.mimeiStore
            let fetched = try await ensureHeld(head.cid, scope: .all, store: store.content, options: options)
            try cli {
                try store.learn(head)
                try store.setFollowing(id, provide: false)
            }
            options.output(["mid": id.text, "version": head.version, "cid": head.cid.text, "blocks_fetched": fetched]) {
                "synced \(id.text) version \(head.version) (\(head.cid.text)); following it"
            }
        }

        /// The head through the head exchange (the node presents the capability to its peers), checked
        /// here; the content through the node's gateway with the capability as bearer, every block marked
        /// as the MiMei's before the version is recorded.
        func syncPrivate(_ id: ID, capability: MiMeiCapability) async throws {
            // Over the exchange a capability counts only for the peer it names: this node's.
            let local = try await options.client.get("/api/v1/swarm/local")
            guard !capability.reader.isEmpty else {
                throw CLIError("a bearer capability is for the gateway (/mm/\(id.text)/?cap=…); syncing needs one granted to this node's peer ID \(local.string("peer_id")) (mimei grant --reader)")
            }
            guard Base58.decode(local.string("peer_id")) == capability.reader else {
                throw CLIError("the capability names another reader, not this node's peer ID \(local.string("peer_id"))")
            }
            let view: [String: Any]
            do { view = try await options.client.post("/api/v1/admin/mimei/head", ["mid": id.text, "capability": capability.text], admin: true) } catch {
                throw CLIError("no peer gave a head for \(id.text) for this capability: \(error)")
            }
            let key = MiMei.headKey(id)
            let record: DHTRecord, head: MiMeiHead
            do {
                guard let bytes = Hex.decode(view.string("record")) else { throw CLIError("the node's answer has no record") }
                record = try DHTRecord(encoded: bytes, expectedKey: key)
                head = try MiMeiHead(value: record.value, key: key)
                try capability.check(head.mimei, reader: nil, now: UInt64(Date().timeIntervalSince1970 * 1000))
            } catch { throw CLIError("the head given for \(id.text) does not check: \(error)") }
            let store = try options.mimeiStore
            try cli {
                try store.add(head.mimei, learnt: true)
                try store.setCapability(id, capability.encoded)
                try store.content.markPrivate(head.cid, to: id)
            }
            let fetched = try await ensureHeld(head.cid, scope: .all, store: store.content, options: options, privateTo: id)
            try cli {
                try store.learn(head)
                try store.setHead(id, record: record.encoded)
                try store.setFollowing(id, provide: false)
            }
            options.output(["mid": id.text, "version": head.version, "cid": head.cid.text, "blocks_fetched": fetched, "private": true]) {
                "synced private \(id.text) version \(head.version) (\(head.cid.text)) from \((view["peers"] as? [String])?.count ?? 0) peer(s); following it"
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant", abstract: "Sign a capability to read a private MiMei: for one peer (--reader) or whoever holds it (--bearer).",
            discussion: "The reader's node syncs with 'mimei sync MID --cap CAPABILITY'; a browser opens /mm/MID/?cap=CAPABILITY.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String
        @Option(help: ArgumentHelp("The reader's peer ID (ledgerctl swarm local on its node).", valueName: "peer-id")) var reader: String?
        @Flag(help: "A bearer capability: whoever presents it may read (a link to share).") var bearer = false
        @Option(help: "Hours until it expires (default 168).") var hours = 168

        func run() async throws {
            let id = try parseMiMei(mid)
            guard (1...87_600).contains(hours) else { throw CLIError("--hours must be 1 to 87600") }
            guard (reader == nil) == bearer else { throw CLIError("give either --reader PEER-ID or --bearer") }
            var readerBytes: [UInt8] = []
            if let reader {
                // A peer ID's bytes are its multihash: identity (an inlined key) or sha2-256.
                guard let bytes = Base58.decode(reader), bytes.count >= 2, bytes.count <= MiMeiCapability.readerBytesMax,
                      (bytes[0] == 0x00 && Int(bytes[1]) == bytes.count - 2) || (bytes[0] == 0x12 && bytes[1] == 32 && bytes.count == 34)
                else { throw CLIError("'\(reader.prefix(80))' is not a peer ID (12D3Koo…, 16Uiu2… or Qm…)") }
                readerBytes = bytes
            }
            let store = try options.mimeiStore
            guard let mimei = try known(store, id) else { throw CLIError(MiMeiStore.Failure.unknown(id).description) }
            guard mimei.isPrivate else { throw CLIError("\(id.text) is public: anyone may read it without a capability") }
            guard let author = options.localKey(for: mimei.author) else { throw CLIError("only its author \(mimei.author.text) can grant \(id.text), and no local key is theirs") }
            let expires = UInt64(Date().timeIntervalSince1970 * 1000) + UInt64(hours) * 3_600_000
            let capability = MiMeiCapability(mimei: id, reader: readerBytes, expires: expires, author: author)
            options.output(["mid": id.text, "reader": reader ?? NSNull(), "expires": expires, "capability": capability.text]) { capability.text }
        }
    }

    struct Provide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "provide", abstract: "Announce that this node holds all of a MiMei's data, and keep following it.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String

        func run() async throws {
            let id = try parseMiMei(mid)
            let store = try options.mimeiStore
            guard let mimei = try known(store, id), let last = try cli({ try store.last(id) }) else { throw CLIError("\(id.text) is not held here; sync it first") }
            guard !mimei.isPrivate else { throw CLIError("\(id.text) is private: it is never announced; readers with a capability ask its holders directly") }
            _ = try await ensureHeld(last.cid, scope: .all, store: store.content, options: options)
            try cli { try store.setFollowing(id, provide: true) }
            let told = try await options.client.post("/api/v1/admin/dht/provide", ["key": Hex.encode(Array(MiMei.providerKey(id).dropFirst(2)))], admin: true)
            options.output(["mid": id.text, "version": last.number, "told": told.uint("told")]) { "providing \(id.text) (version \(last.number)), told \(told.string("told")) peers" }
        }
    }

    struct FindProviders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "findprovs", abstract: "The nodes that provide a MiMei, and its version on the network.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The MiMei ID.") var mid: String

        func run() async throws {
            let id = try parseMiMei(mid)
            if try known(try options.mimeiStore, id)?.isPrivate == true { throw CLIError("\(id.text) is private: it has no providers in the DHT") }
            let head = try await networkHead(id, options: options)
            let view = try await options.client.get("/api/v1/dht/providers/\(Hex.encode(Array(MiMei.providerKey(id).dropFirst(2))))", admin: true)
            let providers = view.list("providers")
            options.output(["mid": id.text, "version": head.map { $0.version as Any } ?? NSNull(), "providers": providers]) {
                (["version \(head.map { "\($0.version)" } ?? "unknown")"] + (providers.isEmpty ? ["no providers found"] : providers.map {
                    "\($0.string("peer_id")) \((($0["addresses"] as? [String]) ?? []).joined(separator: " "))"
                })).joined(separator: "\n")
            }
        }
    }
}

/// Signs the MiMei's last version as its author (a key held here) and puts the head into the DHT, or for
/// a private MiMei keeps it here for the head exchange only.
func publishMiMei(_ id: ID, eolHours eol: Int, options: GlobalOptions) async throws {
    guard (1...8_760).contains(eol) else { throw CLIError("--eol must be 1 to 8760 hours") }
    let store = try options.mimeiStore
    guard let mimei = try known(store, id) else { throw CLIError(MiMeiStore.Failure.unknown(id).description) }
    guard let last = try cli({ try store.last(id) }) else { throw CLIError("\(id.text) has no version yet; mimei add or setcid first") }
    guard let author = options.localKey(for: mimei.author) else { throw CLIError("only its author \(mimei.author.text) can publish \(id.text), and no local key is theirs") }
    let endOfLife = UInt64(Date().timeIntervalSince1970 * 1000) + UInt64(eol) * 3_600_000
    let head = try cli { try MiMeiHead(mimei: mimei, version: last.number, cid: last.cid, endOfLife: endOfLife) }
    let record = DHTRecord(key: mimei.headKey, value: head.encoded, seq: last.number, signer: author)
    try cli {
        try store.setHead(id, record: record.encoded)
        try store.setFollowing(id, provide: !mimei.isPrivate)
    }
    if mimei.isPrivate {
        options.output(["mid": id.text, "version": last.number, "cid": last.cid.text, "eol_hours": eol, "stored_on": 0, "providers_told": 0]) {
            "signed \(id.text) version \(last.number) (\(last.cid.text)), EOL \(eol)h; private: kept here for readers with a capability, not put into the DHT"
        }
        return
    }
    let client = try options.client
    let stored = try await client.post("/api/v1/admin/dht/value", ["record": Hex.encode(record.encoded)], admin: true)
    let told = try await client.post("/api/v1/admin/dht/provide", ["key": Hex.encode(Array(MiMei.providerKey(id).dropFirst(2)))], admin: true)
    options.output(["mid": id.text, "version": last.number, "cid": last.cid.text, "eol_hours": eol, "stored_on": stored.uint("stored_on"), "providers_told": told.uint("told")]) {
        "published \(id.text) version \(last.number) (\(last.cid.text)), EOL \(eol)h, on \(stored.string("stored_on")) peers"
    }
}

extension GlobalOptions {
    var mimeiStore: MiMeiStore {
        get throws { try cli { try MiMeiStore(content: try contentStore) } }
    }
}

/// Runs `body`, turning a store's failure into a one-line CLI error.
func cli<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
}

func parseCapability(_ text: String, for id: ID) throws -> MiMeiCapability {
    let capability: MiMeiCapability
    do { capability = try MiMeiCapability(text: text) } catch { throw CLIError("\(error)") }
    guard capability.mimei == id else { throw CLIError("the capability is for \(capability.mimei.text), not \(id.text)") }
    return capability
}

func parseMiMei(_ text: String) throws -> ID {
    do { return try ID(text: text) } catch { throw CLIError("'\(text.prefix(64))' is not a MiMei ID (ld1…)") }
}

func known(_ store: MiMeiStore, _ id: ID) throws -> MiMei? { try cli { try store.mimei(id) } }

func describe(_ mimei: MiMei) -> [String: Any] {
    ["mid": mimei.id.text, "author": mimei.author.text, "type": mimei.kind.rawValue, "app": mimei.app, "ext": mimei.ext,
     "mark": mimei.mark, "created": mimei.created, "private": mimei.isPrivate]
}

/// The author's head from the DHT through the node, checked here (signature, author, ID), or nil.
func networkHead(_ id: ID, options: GlobalOptions) async throws -> MiMeiHead? {
    let key = MiMei.headKey(id)
    let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
    guard let view = try await options.client.find("/api/v1/dht/value?key=\(encoded)", admin: true), let hex = view["record"] as? String, let bytes = Hex.decode(hex) else { return nil }
    do {
        let record = try DHTRecord(encoded: bytes, expectedKey: key)
        let head = try MiMeiHead(value: record.value, key: key)
        guard head.endOfLife > UInt64(Date().timeIntervalSince1970 * 1000) else { return nil }
        return head
    } catch { throw CLIError("the node gave a head for \(id.text) that does not check: \(error)") }
}
