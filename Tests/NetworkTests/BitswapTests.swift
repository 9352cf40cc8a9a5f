import Foundation
import Ledger
import LedgerTestSupport
import Storage
import Testing
@testable import LedgerNetwork

/// Bitswap between real swarms on loopback, each over its own SQLite content store: a DAG fetched whole
/// from several providers, DONT_HAVE moving a want on, presences and cancels as a peer sees them, and
/// hostile peers — huge want-lists, want-lists piled up over many messages, malformed prefixes, blocks
/// nobody asked for, a provider answering with the wrong block — each banned while honest peers go on.
/// The tests wait on outcomes, never on the clock: a broken rule shows as a fetch that fails or a ban
/// that never comes.
@Suite struct BitswapTests {
    struct Peer {
        let swarm: Swarm
        let bitswap: Bitswap
        let store: ContentStore
    }

    static func peer(_ n: Int, limits: Bitswap.Limits = Bitswap.Limits()) async throws -> Peer {
        let swarm = Swarm(identity: testKey(800 + n), config: .loopback)
        await swarm.registerCoreProtocols()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bitswap-\(n)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = try ContentStore(path: folder + "/content.sqlite")
        let bitswap = Bitswap(swarm: swarm, store: store, limits: limits)
        await bitswap.start()
        try await swarm.listen()
        return Peer(swarm: swarm, bitswap: bitswap, store: store)
    }

    /// A random file of `size` bytes imported with Kubo's defaults into `store`; its root and bytes.
    static func file(_ size: Int, into stores: [ContentStore], seed: UInt64) throws -> (CID, [UInt8]) {
        var generator = SeededGenerator(seed: seed)
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var importer = UnixFSImporter(options: try UnixFSImporter.Options())
        var blocks: [(CID, [UInt8])] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + UnixFSImporter.Options.chunkSizeDefault)
            importer.add(Array(bytes[offset..<end])) { blocks.append(($0, $1)) }
            offset = end
        } while offset < bytes.count
        let root = importer.finish { blocks.append(($0, $1)) }
        for store in stores { try store.put(blocks) }
        return (root.cid, bytes)
    }

    static func connect(_ from: Peer, _ to: Peer) async throws {
        let address = try #require(await to.swarm.listenAddresses.first)
        _ = try await from.swarm.dial(address)
        // Identify tells each side that the other speaks Bitswap.
        for _ in 0..<400 where !(await from.bitswap.connectedPeers().contains(to.swarm.peerID)) { try await Task.sleep(for: .milliseconds(10)) }
    }

    static func read(_ root: CID, from store: ContentStore) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await ContentExport(store: store).file(root) { out += $0 }
        return out
    }

    static func waitForBan(_ peer: PeerID, by victim: Peer) async throws -> String? {
        for _ in 0..<500 {
            if let reason = victim.swarm.peerGuard.banReason(peer) { return reason }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// A raw Bitswap stream from `from` to `to`, for sending what an honest node never would.
    static func send(_ message: [UInt8], from: Swarm, to: Peer) async throws {
        let stream = try await from.openStream(to: to.swarm.peerID, protocols: [Bitswap.protocolID])
        try await stream.writeMessage(message)
        try? await Task.sleep(for: .milliseconds(50))
        await stream.close()
    }

    @Test func aDAGIsFetchedWholeFromTwoProvidersAndEveryByteMatches() async throws {
        let a = try await Self.peer(1), b = try await Self.peer(2), c = try await Self.peer(3)
        let (root, bytes) = try Self.file(3 * 1_048_576 + 77, into: [a.store, b.store], seed: 1)
        try await Self.connect(c, a)
        try await Self.connect(c, b)
        let fetched = try await ContentFetcher(bitswap: c.bitswap, dht: nil).fetch(root, timeout: .seconds(60))
        #expect(fetched.blocks == 14 && fetched.fetched == 14)
        #expect(try await Self.read(root, from: c.store) == bytes)
        // Both providers served part of it (blocks rotate among the peers that have delivered).
        let servedA = await a.bitswap.counters.blocksServed, servedB = await b.bitswap.counters.blocksServed
        #expect(servedA + servedB >= 14 && fetched.providers == 2 && servedA > 0 && servedB > 0)
        // Fetched again, it comes from the store: nothing more is asked of anyone.
        let again = try await ContentFetcher(bitswap: c.bitswap, dht: nil).fetch(root, timeout: .seconds(60))
        #expect(again.fetched == 0 && again.blocks == 14)
        #expect(await c.bitswap.wantCount == 0)
    }

    @Test func aPeerWithoutTheBlockAnswersDontHaveAndTheWantMovesOn() async throws {
        // The ask timeout is far beyond the fetch's deadline: only DONT_HAVE can move the want on in time.
        var slow = Bitswap.Limits()
        slow.askTimeout = .seconds(600)
        let holder = try await Self.peer(4), empty = try await Self.peer(5), fetcher = try await Self.peer(6, limits: slow)
        let (root, bytes) = try Self.file(600_000, into: [holder.store], seed: 2)
        try await Self.connect(fetcher, empty)
        try await Self.connect(fetcher, holder)
        let block = try await fetcher.bitswap.block(root, candidates: [empty.swarm.peerID, holder.swarm.peerID])
        #expect(block.peer == holder.swarm.peerID && root.matches(block.data))
        #expect(await empty.bitswap.counters.presencesSent >= 1)
        _ = try await ContentFetcher(bitswap: fetcher.bitswap, dht: nil).fetch(root, timeout: .seconds(60))
        #expect(try await Self.read(root, from: fetcher.store) == bytes)
        // Nobody has it: the want fails once every candidate said DONT_HAVE.
        let (missing, _) = try Self.file(10, into: [], seed: 3)
        await #expect(throws: BitswapError.notFound(missing, asked: 2)) {
            _ = try await fetcher.bitswap.block(missing, candidates: [empty.swarm.peerID, holder.swarm.peerID])
        }
    }

    @Test func presencesAndCancelsAreAnsweredAsAPeerAsks() async throws {
        let server = try await Self.peer(7)
        let (held, _) = try Self.file(1_000, into: [server.store], seed: 4)
        let (missing, _) = try Self.file(1_001, into: [], seed: 5)
        // The asking side: a bare swarm that records what Bitswap answers it.
        let asker = Swarm(identity: testKey(820), config: .loopback)
        await asker.registerCoreProtocols()
        let answers = Answers()
        await asker.handle(Bitswap.protocolID) { stream in
            while let bytes = try await stream.readMessageOrEnd(max: BitswapMessage.maxSize) {
                await answers.add(try BitswapMessage(bytes: bytes, maxEntries: 10_000))
            }
        }
        try await asker.listen()
        _ = try await asker.dial(try #require(await server.swarm.listenAddresses.first))
        let wantHave = BitswapMessage(entries: [.init(cid: held.bytes, wantType: .have, sendDontHave: true),
                                                .init(cid: missing.bytes, wantType: .have, sendDontHave: true),
                                                .init(cid: [0x01, 0x55, 0x1e, 0x20] + Array(repeating: 7, count: 32), wantType: .block, sendDontHave: true)])
        try await Self.send(wantHave.bytes, from: asker, to: server)
        let presences = try await answers.wait(until: { $0.flatMap(\.presences).count >= 3 }).flatMap(\.presences)
        let have = BitswapMessage.Presence.have, dontHave = BitswapMessage.Presence.dontHave
        #expect(presences.contains { $0.cid == held.bytes && $0.type == have })
        #expect(presences.contains { $0.cid == missing.bytes && $0.type == dontHave })
        // A blake3 CID it cannot even parse as one of its own: DONT_HAVE, not an offence.
        let blake3 = presences.filter { (presence: (cid: [UInt8], type: BitswapMessage.Presence)) in presence.cid.first == 0x01 && presence.cid.count == 36 }
        #expect(blake3.map(\.type) == [dontHave])
        // A want-block for a missing block without send-DONT_HAVE is remembered; a cancel forgets it.
        try await Self.send(BitswapMessage(entries: [.init(cid: missing.bytes)]).bytes, from: asker, to: server)
        for _ in 0..<300 where await server.bitswap.wantsHeld(by: asker.peerID) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await server.bitswap.wantsHeld(by: asker.peerID) == 1)
        try await Self.send(BitswapMessage(entries: [.init(cid: missing.bytes, cancel: true)]).bytes, from: asker, to: server)
        for _ in 0..<300 where await server.bitswap.wantsHeld(by: asker.peerID) == 1 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await server.bitswap.wantsHeld(by: asker.peerID) == 0)
        // A want-block for a held block gets the block, under a prefix that rebuilds its CID.
        try await Self.send(BitswapMessage(entries: [.init(cid: held.bytes)]).bytes, from: asker, to: server)
        let blocks = try await answers.wait(until: { !$0.flatMap(\.blocks).isEmpty }).flatMap(\.blocks)
        #expect(try blocks.map { try BitswapMessage.cid(prefix: $0.prefix, data: $0.data) }.contains(held))
        #expect(asker.peerGuard.banReason(server.swarm.peerID) == nil && server.swarm.peerGuard.banReason(asker.peerID) == nil)
    }

    @Test func hostileWantListsAndUnaskedBlocksGetTheirSenderBanned() async throws {
        var limits = Bitswap.Limits()
        limits.wantsPerPeer = 64
        let victim = try await Self.peer(8, limits: limits), honest = try await Self.peer(9)
        let (root, bytes) = try Self.file(700_000, into: [victim.store], seed: 6)
        func hostile(_ n: Int) async throws -> Swarm {
            let swarm = Swarm(identity: testKey(830 + n), config: .loopback)
            await swarm.registerCoreProtocols()
            _ = try await swarm.dial(try #require(await victim.swarm.listenAddresses.first))
            return swarm
        }
        let cid = { (n: Int) in CID.raw(Array("want \(n)".utf8)).bytes }
        // One message with more entries than a message may hold.
        let huge = try await hostile(1)
        try await Self.send(BitswapMessage(entries: (0..<(limits.entriesPerMessage + 1)).map { .init(cid: cid($0)) }).bytes, from: huge, to: victim)
        #expect(try await Self.waitForBan(huge.peerID, by: victim)?.contains("more than") == true)
        // Wants piled up over many small messages, past what one peer may hold: truncated at the limit, as
        // boxo does (an honest node with a long want-list is not banned), and junk CIDs never remembered.
        let piling = try await hostile(2)
        for round in 0..<5 {
            try? await Self.send(BitswapMessage(entries: (0..<20).map { .init(cid: cid(round * 20 + $0)) }).bytes, from: piling, to: victim)
        }
        try await Self.send(BitswapMessage(entries: (0..<50).map { .init(cid: Array(repeating: UInt8($0), count: 4_000)) }).bytes, from: piling, to: victim)
        for _ in 0..<300 where await victim.bitswap.wantsHeld(by: piling.peerID) < limits.wantsPerPeer { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await victim.bitswap.wantsHeld(by: piling.peerID) == limits.wantsPerPeer)
        // A block nobody asked for.
        let pushing = try await hostile(3)
        let junk = Array("not wanted".utf8)
        try await Self.send(BitswapMessage(blocks: [.init(prefix: [0x01, 0x55, 0x12, 0x20], data: junk)]).bytes, from: pushing, to: victim)
        #expect(try await Self.waitForBan(pushing.peerID, by: victim)?.contains("did not ask for") == true)
        // A prefix that is not a CID prefix.
        let garbling = try await hostile(4)
        try await Self.send(BitswapMessage(blocks: [.init(prefix: [0x07, 0x55], data: junk)]).bytes, from: garbling, to: victim)
        #expect(try await Self.waitForBan(garbling.peerID, by: victim) != nil)
        // Bytes that are not a Bitswap message at all.
        let noise = try await hostile(5)
        try await Self.send([0x0a, 0xff, 0xff, 0x01], from: noise, to: victim)
        #expect(try await Self.waitForBan(noise.peerID, by: victim) != nil)
        // Through all of it the victim serves an honest peer.
        try await Self.connect(honest, victim)
        _ = try await ContentFetcher(bitswap: honest.bitswap, dht: nil).fetch(root, timeout: .seconds(60))
        #expect(try await Self.read(root, from: honest.store) == bytes)
    }

    @Test func aProviderAnsweringWithTheWrongBlockIsBannedAndTheFetchGoesOnElsewhere() async throws {
        let honest = try await Self.peer(10), client = try await Self.peer(11)
        let (root, bytes) = try Self.file(400_000, into: [honest.store], seed: 7)
        // A liar that answers every want-block with a block of its own invention.
        let liar = Swarm(identity: testKey(840), config: .loopback)
        await liar.registerCoreProtocols()
        await liar.handle(Bitswap.protocolID) { stream in
            while let bytes = try await stream.readMessageOrEnd(max: BitswapMessage.maxSize) {
                let wants = try BitswapMessage(bytes: bytes, maxEntries: 10_000).entries.filter { !$0.cancel }
                guard !wants.isEmpty else { continue }
                let back = try await liar.openStream(to: stream.peer, protocols: [Bitswap.protocolID])
                try await back.writeMessage(BitswapMessage(blocks: wants.map { _ in .init(prefix: [0x00, 0x70, 0x12, 0x20], data: Array("lies".utf8)) }).bytes)
                await back.close()
            }
        }
        try await liar.listen()
        _ = try await client.swarm.dial(try #require(await liar.listenAddresses.first))
        try await Self.connect(client, honest)
        let block = try await client.bitswap.block(root, candidates: [liar.peerID, honest.swarm.peerID])
        #expect(block.peer == honest.swarm.peerID)
        #expect(try await Self.waitForBan(liar.peerID, by: client)?.contains("did not ask for") == true)
        _ = try await ContentFetcher(bitswap: client.bitswap, dht: nil).fetch(root, timeout: .seconds(60))
        #expect(try await Self.read(root, from: client.store) == bytes)
    }

    @Test func messagesRoundTripAndDecodeWhatBoxoSends() throws {
        let cid = CID.v0(Array("block".utf8))
        let message = BitswapMessage(entries: [.init(cid: cid.bytes, priority: 5, wantType: .have, sendDontHave: true),
                                               .init(cid: cid.bytes, cancel: true)],
                                     full: true, blocks: [.init(prefix: BitswapMessage.prefix(of: cid), data: Array("block".utf8))],
                                     presences: [(cid.bytes, .dontHave)])
        #expect(try BitswapMessage(bytes: message.bytes, maxEntries: 10) == message)
        #expect(try BitswapMessage.cid(prefix: BitswapMessage.prefix(of: cid), data: Array("block".utf8)) == cid)
        let raw = CID.raw(Array("x".utf8))
        #expect(try BitswapMessage.cid(prefix: BitswapMessage.prefix(of: raw), data: Array("x".utf8)) == raw)
        // A blake3 prefix names nothing this node asks for; a truncated one is malformed.
        #expect(try BitswapMessage.cid(prefix: [0x01, 0x55, 0x1e, 0x20], data: []) == nil)
        #expect(throws: WireError.self) { try BitswapMessage.cid(prefix: [0x01, 0x55], data: []) }
        #expect(throws: WireError.self) { try BitswapMessage(bytes: message.bytes, maxEntries: 3) }
    }
    @Test func aPrivateMiMeisBlocksAreAnsweredAsNotHeldToEveryPeer() async throws {
        let holder = try await Self.peer(7), stranger = try await Self.peer(8)
        let mimei = ID.derived("mimei", data: [1, 2, 3])
        let (root, _) = try Self.file(600_000, into: [holder.store], seed: 9)
        try holder.store.markPrivate(root, to: mimei)
        let rootBlock = try #require(try holder.store.get(root))
        let leaf = try #require(try DagPB.links(of: rootBlock).first?.cid)
        try await Self.connect(stranger, holder)
        // DONT_HAVE for the root and for a leaf, as for a block the holder lacks: readers use the MiMei exchange.
        await #expect(throws: BitswapError.notFound(root, asked: 1)) { _ = try await stranger.bitswap.block(root, candidates: [holder.swarm.peerID]) }
        await #expect(throws: BitswapError.notFound(leaf, asked: 1)) { _ = try await stranger.bitswap.block(leaf, candidates: [holder.swarm.peerID]) }
        #expect(await holder.bitswap.counters.blocksServed == 0)
        // A stranger's fetch of a DAG above a private block held here stops at it, unread.
        let fetcher = ContentFetcher(bitswap: holder.bitswap, dht: nil)
        await #expect(throws: BitswapError.hidden(root)) { _ = try await fetcher.fetch(root, timeout: .seconds(30), access: .stranger) }
    }
}

actor Answers {
    private var messages: [BitswapMessage] = []
    func add(_ message: BitswapMessage) { messages.append(message) }
    func wait(until done: ([BitswapMessage]) -> Bool) async throws -> [BitswapMessage] {
        for _ in 0..<500 where !done(messages) { try await Task.sleep(for: .milliseconds(10)) }
        return messages
    }

}
