import Ledger
import NIOConcurrencyHelpers
import Storage

/// Fetches a whole DAG into the content store over Bitswap (specs/content.md §Fetching): the candidates
/// are the DHT's providers of the root (GET_PROVIDERS) and the connected peers that speak Bitswap; blocks
/// are fetched `window` at a time, each first from a peer that has already delivered part of this DAG
/// (rotating among them, so several providers serve at once), then from the others. Every block is
/// checked against its CID as it arrives; dag-pb links are followed, at most `blocksMax` blocks, and the
/// whole fetch ends at its deadline.
public struct ContentFetcher: Sendable {
    public let bitswap: Bitswap
    public let dht: DHT?
    /// Where a private MiMei's blocks come from (the head exchange); nil: they cannot be fetched.
    public let privateBlocks: (any PrivateBlockSource)?
    public static let window = 32
    public static let blocksMax = ContentExport.blocksPerFileMax

    public init(bitswap: Bitswap, dht: DHT?, privateBlocks: (any PrivateBlockSource)? = nil) {
        self.bitswap = bitswap
        self.dht = dht
        self.privateBlocks = privateBlocks
    }

    public struct Fetched: Sendable, Equatable {
        public var blocks = 0
        public var bytes = 0
        /// Blocks that came from the network (the rest were held already).
        public var fetched = 0
        /// Peers that delivered at least one block.
        public var providers = 0
    }

    /// Fetches `root` and everything it links to; throws `.deadline` when `timeout` passes first.
    /// `privateTo`: the DAG is that private MiMei's. Its blocks come from `privateBlocks` (never Bitswap,
    /// never the DHT, which would tell the network its CIDs) and are marked so in the write that stores
    /// them. Otherwise held blocks are read as `access` may (a stranger's fetch stops at a private block
    /// rather than walk under it).
    /// `shardsOnly`: a sharded directory's own nodes (its root and sub-shards), none of its entries.
    public func fetch(_ root: CID, timeout: Duration, privateTo: ID? = nil, access: ContentAccess = .all, shardsOnly: Bool = false) async throws(BitswapError) -> Fetched {
        try await Self.racing(timeout, cid: root) { try await walk(root, privateTo: privateTo, access: access, shardsOnly: shardsOnly) }
    }

    /// `body`'s result, or `.deadline(cid)` when `timeout` passes first (then `body` is cancelled).
    static func racing<T: Sendable>(_ timeout: Duration, cid: CID, _ body: @escaping @Sendable () async throws -> T) async throws(BitswapError) -> T {
        let outcome: Result<T, BitswapError> = await withTaskGroup(of: Result<T, BitswapError>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch let error as BitswapError { return .failure(error) } catch { return .failure(.cancelled) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(.deadline(cid))
            }
            var first: Result<T, BitswapError>?
            for await result in group {
                guard let result else { continue }
                first = result
                group.cancelAll()
                break
            }
            return first ?? .failure(.cancelled)
        }
        return try outcome.get()
    }

    /// The DHT key of a CID: its multihash (the last 34 bytes of a sha2-256 CID).
    public static func providerKey(_ cid: CID) -> [UInt8] { Array(cid.bytes.suffix(34)) }

    func candidates(for root: CID) async -> [PeerID] {
        var found: [PeerID] = []
        if let dht { found = await dht.findProviders(Self.providerKey(root), limit: 20) }
        for peer in await bitswap.connectedPeers() where !found.contains(peer) { found.append(peer) }
        return found.filter { $0 != bitswap.swarm.peerID }
    }

    /// One block, from the store or from peers, within `timeout`.
    public func block(_ cid: CID, timeout: Duration, privateTo: ID? = nil) async throws(BitswapError) -> [UInt8] {
        let candidates = Candidates(self, root: cid)
        return try await Self.racing(timeout, cid: cid) {
            if let privateTo { return try await privateBlock(cid, privateTo) }
            if let held = try bitswap.store.get(cid) { return held }
            return try await bitswap.block(cid, candidates: try await candidates.peers()).data
        }
    }

    /// A private MiMei's block: held (and marked now if it was not), or from `privateBlocks` and stored
    /// marked.
    func privateBlock(_ cid: CID, _ mimei: ID) async throws -> [UInt8] {
        let store = bitswap.store
        if let held = try store.get(cid) {
            try store.put(cid, held, privateTo: mimei)
            return held
        }
        guard let privateBlocks else { throw BitswapError.notFound(cid, asked: 0) }
        let data = try await privateBlocks.block(cid, of: mimei)
        do { try store.put(cid, data, privateTo: mimei) } catch { throw BitswapError.store("\(error)") }
        return data
    }

    private func walk(_ root: CID, privateTo: ID?, access: ContentAccess, shardsOnly: Bool) async throws -> Fetched {
        let session = Session()
        let candidates = Candidates(self, root: root)
        var total = Fetched()
        var queue: [CID] = [root]
        var seen: Set<CID> = [root]
        try await withThrowingTaskGroup(of: (CID, Bitswap.Delivery, PeerID?).self) { group in
            var running = 0
            var index = 0
            while !queue.isEmpty || running > 0 {
                while running < Self.window, let cid = queue.popLast() {
                    index += 1
                    let rotation = index
                    group.addTask {
                        // Blocks held already are read here: the network is looked at only for what is missing.
                        if let privateTo { return (cid, Bitswap.Delivery(data: try await privateBlock(cid, privateTo), peer: nil), nil) }
                        guard try bitswap.store.readable(cid, by: access) else { throw BitswapError.hidden(cid) }
                        if let held = try bitswap.store.get(cid) { return (cid, Bitswap.Delivery(data: held, peer: nil), nil) }
                        let order = session.order(try await candidates.peers(), rotation: rotation)
                        return (cid, try await bitswap.block(cid, candidates: order), order.first)
                    }
                    running += 1
                }
                guard let (cid, delivery, first) = try await group.next() else { break }
                running -= 1
                total.blocks += 1
                total.bytes += delivery.data.count
                if let peer = delivery.peer {
                    total.fetched += 1
                    session.delivered(by: peer, firstAsked: first)
                }
                guard cid.codec == CID.dagPBCodec else { continue }
                var links: [DagPB.Link]
                do { links = try DagPB.links(of: delivery.data) } catch { throw BitswapError.store("block \(cid) is not dag-pb: \(error)") }
                if shardsOnly {
                    let decoded = try? DagPB.decode(delivery.data)
                    let isShard = (try? UnixFSData(decoding: decoded?.data ?? []))?.kind == .hamtShard
                    links = isShard ? links.filter { (try? HAMTShard.role(of: $0)) == .shard } : []
                }
                // Reversed onto a stack, so blocks are fetched roughly in file order.
                for link in links.reversed() where seen.insert(link.cid).inserted {
                    guard seen.count <= Self.blocksMax else { throw BitswapError.store("\(root) links more than \(Self.blocksMax) blocks") }
                    queue.append(link.cid)
                }
            }
        }
        total.providers = session.count
        return total
    }

    /// The peers to ask, found once, when the first missing block needs them; with nobody to ask, looked
    /// for again every second until the deadline (a provider may connect or announce meanwhile).
    actor Candidates {
        let fetcher: ContentFetcher
        let root: CID
        private var finding: Task<[PeerID], Never>?

        init(_ fetcher: ContentFetcher, root: CID) {
            self.fetcher = fetcher
            self.root = root
        }

        func peers() async throws -> [PeerID] {
            if finding == nil {
                let fetcher = self.fetcher, root = self.root
                finding = Task { await fetcher.candidates(for: root) }
            }
            // Cancellable: the fetch's deadline must not wait for a DHT lookup to end by itself.
            let task = finding
            var found = await withTaskCancellationHandler { await task?.value ?? [] } onCancel: { task?.cancel() }
            try Task.checkCancellation()
            while found.isEmpty {
                try await Task.sleep(for: .seconds(1))
                found = await fetcher.candidates(for: root)
                let settled = found
                if !settled.isEmpty { finding = Task { settled } }
            }
            return found
        }
    }

    /// Which candidates to ask first for each block: all of them in turn (so several providers serve at
    /// once), except those that were asked first for a block another peer then delivered — they lack
    /// at least part of this DAG and are asked last.
    final class Session: Sendable {
        private let state = NIOLockedValueBox<(delivered: Set<PeerID>, missed: Set<PeerID>)>(([], []))

        func delivered(by peer: PeerID, firstAsked: PeerID?) {
            state.withLockedValue {
                $0.delivered.insert(peer)
                $0.missed.remove(peer)
                if let firstAsked, firstAsked != peer { $0.missed.insert(firstAsked) }
            }
        }

        var count: Int { state.withLockedValue { $0.delivered.count } }

        func order(_ candidates: [PeerID], rotation: Int) -> [PeerID] {
            let missed = state.withLockedValue { $0.missed }
            let good = candidates.filter { !missed.contains($0) }
            guard !good.isEmpty else { return candidates }
            let start = rotation % good.count
            return Array(good[start...] + good[..<start]) + candidates.filter { missed.contains($0) }
        }
    }
}

/// A source of private MiMei blocks (the head exchange, specs/p2p.md §7.3): asks the peers that granted
/// this node the MiMei, presenting its capability; the block returned matches its CID.
public protocol PrivateBlockSource: Sendable {
    func block(_ cid: CID, of mimei: ID) async throws(BitswapError) -> [UInt8]
}
