import Ledger
import LedgerTestSupport
import Testing

/// `ipfs add` in Ledger/Content: known CIDs, the options' rules, and the streaming layout against a
/// line-by-line transliteration of boxo's recursive `balanced.Layout` (the algorithm Kubo runs), over
/// files whose depth-2 and depth-3 boundaries a 1-byte chunker makes small. Kubo and Debian's ipfs_cid
/// check the same importer at Kubo's defaults up to 100 MiB (KuboAddTests).
@Suite struct UnixFSImporterTests {
    static func add(_ bytes: [UInt8], _ options: UnixFSImporter.Options, blocks: inout [CID: [UInt8]]) -> UnixFSImporter.Node {
        var importer = UnixFSImporter(options: options)
        var stored: [CID: [UInt8]] = [:]
        for start in stride(from: 0, to: bytes.count, by: options.chunkSize) {
            importer.add(Array(bytes[start..<min(start + options.chunkSize, bytes.count)])) { stored[$0] = $1 }
        }
        let root = importer.finish { stored[$0] = $1 }
        blocks = stored
        return root
    }

    static func cid(_ bytes: [UInt8], _ options: UnixFSImporter.Options) -> String {
        var blocks: [CID: [UInt8]] = [:]
        return add(bytes, options, blocks: &blocks).cid.text
    }

    @Test func knownCIDs() throws {
        let defaults = try UnixFSImporter.Options()
        #expect(Self.cid(Array("hello world\n".utf8), defaults) == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        #expect(Self.cid([], defaults) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
        // CIDv1 implies raw leaves: a one-chunk file is its raw block, sha2-256 of the bytes.
        let v1 = try UnixFSImporter.Options(cidVersion: 1)
        #expect(v1.rawLeaves)
        #expect(Self.cid(Array("hello world\n".utf8), v1) == CID.raw(Array("hello world\n".utf8)).text)
        #expect(Self.cid([], v1) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
        // CIDv1 without raw leaves names the same dag-pb block as CIDv0.
        let v1pb = try UnixFSImporter.Options(cidVersion: 1, rawLeaves: false)
        #expect(Self.cid(Array("hello world\n".utf8), v1pb) == "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby")
        let v0 = try CID(text: "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        #expect(try v0.digest == CID(text: "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby").digest)
    }

    /// specs/vectors/content.json: files (bytes given, or made by `pattern`), options, and the CID of
    /// `ipfs add`; for the small ones every block. Tests/crosscheck/crosscheck.py re-derives them.
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: 7 &* $0 &+ $0 >> 8) } }

    @Test func contentVectors() throws {
        let hello = Array("hello world\n".utf8)
        let cases: [(String, [UInt8], String?, UnixFSImporter.Options, String)] = [
            ("hello world, Kubo's defaults", hello, nil, try .init(), "defaults"),
            ("the empty file, Kubo's defaults", [], nil, try .init(), "defaults"),
            ("hello world, CIDv1 (raw leaves)", hello, nil, try .init(cidVersion: 1), "--cid-version 1"),
            ("the empty file, CIDv1 (raw leaves)", [], nil, try .init(cidVersion: 1), "--cid-version 1"),
            ("hello world, CIDv1 with dag-pb leaves", hello, nil, try .init(cidVersion: 1, rawLeaves: false), "--cid-version 1 --raw-leaves=false"),
            ("hello world, CIDv0 with raw leaves", hello, nil, try .init(rawLeaves: true), "--raw-leaves"),
            ("hello world in chunks of 5", hello, nil, try .init(chunkSize: 5), "--chunker size-5"),
            ("527 pattern bytes in chunks of 1: depth 2, 4 children", Self.pattern(527), "pattern", try .init(chunkSize: 1), "--chunker size-1"),
            ("30,277 pattern bytes in chunks of 1, CIDv1: depth 3 (174 × 174 + 1 leaves)", Self.pattern(30_277), "pattern",
             try .init(chunkSize: 1, cidVersion: 1), "--cid-version 1 --chunker size-1"),
            ("262,145 pattern bytes, Kubo's defaults: two leaves", Self.pattern(262_145), "pattern", try .init(), "defaults"),
        ]
        let entries: [[String: Any]] = cases.map { description, bytes, pattern, options, flags in
            var importer = UnixFSImporter(options: options)
            var blocks: [[String: String]] = []
            for start in stride(from: 0, to: bytes.count, by: options.chunkSize) {
                importer.add(Array(bytes[start..<min(start + options.chunkSize, bytes.count)])) { cid, block in
                    if bytes.count <= 64 { blocks.append(["cid": cid.text, "hex": Hex.encode(block)]) }
                }
            }
            let root = importer.finish { cid, block in blocks.append(["cid": cid.text, "hex": Hex.encode(block.count <= 4_096 ? block : [])]) }
            var entry: [String: Any] = ["description": description, "options": flags, "chunk_size": options.chunkSize, "cid_version": options.cidVersion,
                                        "raw_leaves": options.rawLeaves, "cid": root.cid.text, "dag_size": root.totalSize, "bytes_count": bytes.count]
            if let pattern { entry["content"] = pattern } else { entry["content_hex"] = Hex.encode(bytes) }
            entry["blocks"] = blocks.filter { !($0["hex"] ?? "").isEmpty }
            return entry
        }
        // The CAR of hello world: its header and its one block (specs/content.md §CAR).
        var importer = UnixFSImporter(options: try .init())
        var helloBlocks: [(CID, [UInt8])] = []
        importer.add(hello) { helloBlocks.append(($0, $1)) }
        let helloRoot = importer.finish { helloBlocks.append(($0, $1)) }.cid
        let car = CARv1.header(roots: [helloRoot]) + helloBlocks.flatMap { CARv1.section($0.0, $0.1) }
        // A capability to read a private MiMei (specs/content.md §Rights), signed by testKey(1).
        let author = testKey(1)
        let mimei = try MiMei(author: author.publicKey.id, app: "vectors", mark: 42, created: 1_767_225_600_000, isPrivate: true)
        let reader: [UInt8] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20] + Array(repeating: 0x07, count: 32)
        let capability = MiMeiCapability(mimei: mimei.id, reader: reader, expires: 1_767_312_000_000, author: author)
        try SpecVectorTests.check("content.json", ["pattern": "byte i is (7 × i + ⌊i / 256⌋) mod 256", "files": entries,
                                                   "car": ["description": "a CARv1 of hello world (Kubo's defaults): header, then its one block",
                                                           "root": helloRoot.text, "hex": Hex.encode(car)],
                                                   "capability": ["description": "a private MiMei's descriptor and a capability its author signed for one reader",
                                                                  "descriptor_hex": Hex.encode(mimei.encoded), "mimei": mimei.id.text,
                                                                  "reader_hex": Hex.encode(reader), "expires": capability.expires,
                                                                  "hex": capability.text]])
        #expect(entries[0]["cid"] as? String == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
    }

    /// Directories: the empty one is Kubo's, entries sort by the bytes of their names (not by Unicode
    /// collation), and one past Kubo's threshold is a HAMT shard.
    @Test func directoriesSortByBytesAndShardPastTheThreshold() throws {
        #expect(try UnixFSDirectory.node([], cidVersion: 0) { _, _ in }.cid.text == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        var scratch: [CID: [UInt8]] = [:]
        let file = Self.add(Array("x".utf8), try .init(), blocks: &scratch)
        var block: [UInt8] = []
        _ = try UnixFSDirectory.node([("b", file), ("\u{e9}", file), ("B", file), ("a", file)], cidVersion: 0) { _, bytes in block = bytes }
        let names = ["B", "a", "b", "\u{e9}"].map { Array($0.utf8) }
        let positions = names.map { name in (0..<block.count).first { block[$0...].starts(with: [0x12, UInt8(name.count)] + name) } ?? -1 }
        #expect(!positions.contains(-1) && positions == positions.sorted(), "links in byte order of their names")
        // Past the threshold the directory is a HAMT shard (Kubo's CIDs for such directories: KuboAddTests).
        let many = (0..<6_000).map { (String(repeating: "n", count: 10) + "\($0)", file) }
        var shardBlocks: [(CID, [UInt8])] = []
        let sharded = try UnixFSDirectory.node(many, cidVersion: 0) { shardBlocks.append(($0, $1)) }
        let rootData = try UnixFSData(decoding: try DagPB.decode(try #require(shardBlocks.last { $0.0 == sharded.cid }?.1)).data ?? [])
        #expect(rootData.kind == .hamtShard && rootData.fanout == 256 && rootData.hashType == 0x22)
        #expect(shardBlocks.count > 1, "6,000 entries need sub-shards")
        let few = (0..<10).map { ("n\($0)", file) }
        var basic: [UInt8] = []
        _ = try UnixFSDirectory.node(few, cidVersion: 0) { _, bytes in basic = bytes }
        #expect(try UnixFSData(decoding: try DagPB.decode(basic).data ?? []).kind == .directory)
    }

    /// MurmurHash3 x64 (seed 0), the first half big-endian, as HAMT directories hash names; the expected
    /// values are PyPI mmh3's `hash64(data, 0, signed=False)[0]`.
    @Test func murmur3MatchesTheReference() {
        let vectors: [(String, String)] = [("", "0000000000000000"), ("a", "85555565f6597889"), ("hello", "cbd8a7b341bd9b02"),
                                           ("hello world, this is 16+", "93d60f29823dd8fc"), ("0123456789abcdef", "4be06d94cf4ad1a7"),
                                           ("0123456789abcdefg", "8e32612daa45f9de")]
        for (text, hex) in vectors { #expect(Hex.encode(Murmur3.x64_64(Array(text.utf8))) == hex, "\(text)") }
    }

    @Test func badOptionsAreRefused() throws {
        #expect(throws: ContentError.self) { try UnixFSImporter.Options(chunkSize: 0) }
        #expect(throws: ContentError.self) { try UnixFSImporter.Options(chunkSize: UnixFSImporter.Options.chunkSizeMax + 1) }
        #expect(throws: ContentError.self) { try UnixFSImporter.Options(cidVersion: 2) }
        for chunker in ["size-", "size-x", "rabin", "262144", "size--1"] {
            #expect(throws: ContentError.self) { _ = try UnixFSImporter.Options.chunkSize(parsing: chunker) }
        }
        #expect(try UnixFSImporter.Options.chunkSize(parsing: "size-1024") == 1024)
    }

    @Test func cidTextRoundTripsAndBadTextIsRefused() throws {
        for text in ["QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"] {
            #expect(try CID(text: text).text == text)
        }
        for bad in ["", "Qm", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5O", "bafy", "zzz", "b" + String(repeating: "a", count: 200),
                    "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o0"] {
            #expect(throws: ContentError.self) { try CID(text: bad) }
        }
    }

    /// Every block the importer emits is named by its CID, and the root's DAG size is the sum of every
    /// block emitted (a repeated chunk counts each time it is linked, as Kubo's Tsize does).
    @Test func everyBlockMatchesItsCIDAndTheSizesAddUp() throws {
        let bytes = (0..<(3 * 174 + 5)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for options in [try UnixFSImporter.Options(chunkSize: 1), try UnixFSImporter.Options(chunkSize: 1, cidVersion: 1)] {
            var importer = UnixFSImporter(options: options)
            var emitted: [(CID, [UInt8])] = []
            for byte in bytes { importer.add([byte]) { emitted.append(($0, $1)) } }
            let root = importer.finish { emitted.append(($0, $1)) }
            #expect(emitted.allSatisfy { $0.0.matches($0.1) })
            #expect(emitted.last?.0 == root.cid)
            #expect(root.fileSize == UInt64(bytes.count))
            #expect(root.totalSize == emitted.reduce(0) { $0 + UInt64($1.1.count) })
        }
    }

    /// Layouts equal boxo's recursive algorithm at every boundary of depth 1, 2 and 3, for each kind of leaf.
    @Test func layoutEqualsBoxoBalancedLayout() throws {
        let links = UnixFSImporter.Options.linksMax
        let counts = [0, 1, 2, links - 1, links, links + 1, 2 * links, links * links - 1, links * links, links * links + 1,
                      links * links + links, links * links + links + 1]
        for options in [try UnixFSImporter.Options(chunkSize: 1), try UnixFSImporter.Options(chunkSize: 1, cidVersion: 1),
                        try UnixFSImporter.Options(chunkSize: 1, rawLeaves: true)] {
            for count in counts {
                let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
                var blocks: [CID: [UInt8]] = [:]
                var boxo = BoxoBalanced(bytes: bytes, options: options)
                #expect(Self.add(bytes, options, blocks: &blocks).cid == boxo.layout(),
                        "\(count) chunks, CIDv\(options.cidVersion), raw leaves \(options.rawLeaves)")
            }
        }
    }
}

/// boxo/ipld/unixfs/importer/balanced/builder.go, transliterated: the root grows a level at a time, and
/// `fillNodeRec` fills a node of a given depth from the data left. Pulls chunks; keeps nothing but CIDs.
private struct BoxoBalanced {
    let bytes: [UInt8]
    let options: UnixFSImporter.Options
    var offset = 0

    init(bytes: [UInt8], options: UnixFSImporter.Options) {
        self.bytes = bytes
        self.options = options
    }

    var done: Bool { offset >= bytes.count }

    mutating func layout() -> CID {
        if done { return leaf([]).cid }
        var root = nextLeaf()
        var depth = 1
        while !done {
            root = fill([root], depth: depth)
            depth += 1
        }
        return root.cid
    }

    mutating func fill(_ start: [UnixFSImporter.Node], depth: Int) -> UnixFSImporter.Node {
        var children = start
        while children.count < UnixFSImporter.Options.linksMax && !done {
            children.append(depth == 1 ? nextLeaf() : fill([], depth: depth - 1))
        }
        let fileSize = children.reduce(0) { $0 + $1.fileSize }
        let block = DagPB.encode(links: children.map { DagPB.Link(cid: $0.cid, totalSize: $0.totalSize) },
                                 data: UnixFSData(kind: .file, fileSize: fileSize, blockSizes: children.map(\.fileSize)).encoded)
        return UnixFSImporter.Node(cid: options.cidVersion == 0 ? CID.v0(block) : CID.dagPB(block),
                                   totalSize: children.reduce(UInt64(block.count)) { $0 + $1.totalSize }, fileSize: fileSize)
    }

    mutating func nextLeaf() -> UnixFSImporter.Node {
        let chunk = Array(bytes[offset..<min(offset + options.chunkSize, bytes.count)])
        offset += chunk.count
        return leaf(chunk)
    }

    func leaf(_ chunk: [UInt8]) -> UnixFSImporter.Node {
        if options.rawLeaves { return UnixFSImporter.Node(cid: CID.raw(chunk), totalSize: UInt64(chunk.count), fileSize: UInt64(chunk.count)) }
        let block = DagPB.encode(links: [], data: UnixFSData(kind: .file, data: chunk, fileSize: UInt64(chunk.count)).encoded)
        return UnixFSImporter.Node(cid: options.cidVersion == 0 ? CID.v0(block) : CID.dagPB(block), totalSize: UInt64(block.count), fileSize: UInt64(chunk.count))
    }
}
