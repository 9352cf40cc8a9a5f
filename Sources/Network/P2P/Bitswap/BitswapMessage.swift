import Ledger

/// One Bitswap 1.2.0 message (boxo's `bitswap/message/pb/message.proto`; specs/p2p.md §Bitswap): a
/// want-list (entries, and whether it is the sender's full list), blocks with their CID prefixes, and
/// HAVE / DONT_HAVE presences. Messages travel uvarint-length-prefixed, several per stream, one way: a
/// node answers on a stream it opens itself.
public struct BitswapMessage: Equatable, Sendable {
    /// Messages over this size are refused (libp2p's `network.MessageSizeMax`, 4 MiB).
    public static let maxSize = 4 << 20

    public enum WantType: UInt64, Sendable { case block = 0, have = 1 }

    public struct Entry: Equatable, Sendable {
        /// The wanted CID's binary form (any CID: an unsupported one is answered DONT_HAVE, not refused).
        public var cid: [UInt8]
        public var priority: Int32 = 1
        public var cancel = false
        public var wantType: WantType = .block
        public var sendDontHave = false

        public init(cid: [UInt8], priority: Int32 = 1, cancel: Bool = false, wantType: WantType = .block, sendDontHave: Bool = false) {
            self.cid = cid
            self.priority = priority
            self.cancel = cancel
            self.wantType = wantType
            self.sendDontHave = sendDontHave
        }
    }

    /// A block as Bitswap 1.1+ sends it: the CID's prefix (version, codec, multihash type and length),
    /// from which the receiver rebuilds the CID by hashing `data` itself.
    public struct Block: Equatable, Sendable {
        public var prefix: [UInt8]
        public var data: [UInt8]
        public init(prefix: [UInt8], data: [UInt8]) {
            self.prefix = prefix
            self.data = data
        }
    }

    public enum Presence: UInt64, Sendable { case have = 0, dontHave = 1 }

    public var entries: [Entry] = []
    public var full = false
    public var blocks: [Block] = []
    /// Bitswap 1.0.0's bare blocks (CIDv0 implied); accepted, never sent.
    public var legacyBlocks: [[UInt8]] = []
    public var presences: [(cid: [UInt8], type: Presence)] = []
    public var pendingBytes: Int32 = 0

    public init(entries: [Entry] = [], full: Bool = false, blocks: [Block] = [], presences: [(cid: [UInt8], type: Presence)] = []) {
        self.entries = entries
        self.full = full
        self.blocks = blocks
        self.presences = presences
    }

    public static func == (a: BitswapMessage, b: BitswapMessage) -> Bool {
        a.entries == b.entries && a.full == b.full && a.blocks == b.blocks && a.legacyBlocks == b.legacyBlocks
            && a.presences.map(\.cid) == b.presences.map(\.cid) && a.presences.map(\.type) == b.presences.map(\.type) && a.pendingBytes == b.pendingBytes
    }

    public var isEmpty: Bool { entries.isEmpty && blocks.isEmpty && legacyBlocks.isEmpty && presences.isEmpty && !full }

    /// The prefix of a CID made here (CIDv0 or a sha2-256 CIDv1): what a Bitswap block carries.
    public static func prefix(of cid: CID) -> [UInt8] {
        cid.version == 0 ? [0x00, 0x70, CID.sha256Code, 0x20] : [0x01] + Varint.encode(cid.codec) + [CID.sha256Code, 0x20]
    }

    /// The CID a received block names: its prefix with the sha2-256 of its data. Nil for a well-formed
    /// prefix of another hash function (not wanted by this node, so never asked for); a prefix that is not
    /// one is malformed.
    public static func cid(prefix: [UInt8], data: [UInt8]) throws(WireError) -> CID? {
        var index = 0
        func next() throws(WireError) -> UInt64 {
            guard let (value, used) = try Varint.decode(prefix[index...]) else { throw .malformed("Bitswap block prefix truncated") }
            index += used
            return value
        }
        let version = try next(), codec = try next(), hash = try next(), length = try next()
        guard index == prefix.count, version <= 1, length <= 64, version == 1 || (codec == CID.dagPBCodec && hash == 0x12 && length == 32)
        else { throw .malformed("Bitswap block prefix is not a CID prefix") }
        guard hash == UInt64(CID.sha256Code), length == 32 else { return nil }
        let digest = SHA256.hash(data)
        return version == 0 ? try? CID(bytes: [CID.sha256Code, 0x20] + digest.bytes) : CID.v1(codec: codec, digest: digest)
    }

    public var bytes: [UInt8] {
        var message = ProtobufWriter()
        if !entries.isEmpty || full {
            var wantlist = ProtobufWriter()
            for entry in entries {
                var encoded = ProtobufWriter()
                encoded.bytes(1, entry.cid)
                encoded.varint(2, UInt64(UInt32(bitPattern: entry.priority)))
                if entry.cancel { encoded.varint(3, 1) }
                if entry.wantType != .block { encoded.varint(4, entry.wantType.rawValue) }
                if entry.sendDontHave { encoded.varint(5, 1) }
                wantlist.bytes(1, encoded.bytes)
            }
            if full { wantlist.varint(2, 1) }
            message.bytes(1, wantlist.bytes)
        }
        for block in legacyBlocks { message.bytes(2, block) }
        for block in blocks {
            var encoded = ProtobufWriter()
            encoded.bytes(1, block.prefix)
            encoded.bytes(2, block.data)
            message.bytes(3, encoded.bytes)
        }
        for presence in presences {
            var encoded = ProtobufWriter()
            encoded.bytes(1, presence.cid)
            if presence.type != .have { encoded.varint(2, presence.type.rawValue) }
            message.bytes(4, encoded.bytes)
        }
        if pendingBytes != 0 { message.varint(5, UInt64(UInt32(bitPattern: pendingBytes))) }
        return message.bytes
    }

    /// Decodes a message, refusing one with more than `maxEntries` want-list entries, blocks and
    /// presences together (a WireError: the sender is banned).
    public init(bytes: [UInt8], maxEntries: Int) throws(WireError) {
        let message = try ProtobufMessage(bytes)
        var count = 0
        func counted() throws(WireError) {
            count += 1
            guard count <= maxEntries else { throw .malformed("Bitswap message with more than \(maxEntries) entries") }
        }
        if let wantlist = message.bytes(1) {
            let decoded = try ProtobufMessage(wantlist)
            full = decoded.varint(2).map { $0 != 0 } ?? false
            for raw in decoded.allBytes(1) {
                try counted()
                let entry = try ProtobufMessage(raw)
                guard let cid = entry.bytes(1), !cid.isEmpty else { throw .malformed("Bitswap want-list entry without a CID") }
                guard let type = WantType(rawValue: entry.varint(4) ?? 0) else { throw .malformed("Bitswap want type \(entry.varint(4) ?? 0)") }
                entries.append(Entry(cid: cid, priority: Int32(truncatingIfNeeded: entry.varint(2) ?? 1), cancel: (entry.varint(3) ?? 0) != 0,
                                     wantType: type, sendDontHave: (entry.varint(5) ?? 0) != 0))
            }
        }
        for raw in message.allBytes(2) {
            try counted()
            legacyBlocks.append(raw)
        }
        for raw in message.allBytes(3) {
            try counted()
            let block = try ProtobufMessage(raw)
            guard let prefix = block.bytes(1), let data = block.bytes(2) else { throw .malformed("Bitswap block without prefix or data") }
            blocks.append(Block(prefix: prefix, data: data))
        }
        for raw in message.allBytes(4) {
            try counted()
            let presence = try ProtobufMessage(raw)
            guard let cid = presence.bytes(1), let type = Presence(rawValue: presence.varint(2) ?? 0) else {
                throw .malformed("Bitswap block presence without a CID or with an unknown type")
            }
            presences.append((cid, type))
        }
        pendingBytes = Int32(truncatingIfNeeded: message.varint(5) ?? 0)
    }
}
