import Credit
import Foundation
import Ledger
import Logging
import Storage

/// Keeps this node's storage contracts (specs/credit.md §Storage contracts in practice): the content of
/// every open contract this node stores for is pinned — fetched from peers first when it is not held —
/// and every open challenge is answered from the blocks in the content store: the challenged segment is
/// read from the file the contract's CID names, its leaves hashed (once per contract, then kept) and
/// checked against the contract's root, and `contract.storage.prove` submitted with the audit path. A
/// node that lost the content cannot answer, and the deadline passes: the rules then take its penalty.
public actor StorageKeeper {
    let key: SecretKey
    let me: ID
    let node: LedgerNode
    let store: ContentStore
    let fetcher: ContentFetcher?
    let logger: Logger
    /// Segment leaves per contract, once the content matched its root.
    private var leaves: [ID: [Digest]] = [:]
    /// Proofs submitted, by contract and challenged period (submitted once each, unless refused).
    private var proved: Set<String> = []
    /// Contracts whose content could not be had, and when last tried (fetches are retried each minute).
    private var missing: [ID: Date] = [:]
    static let fetchRetrySeconds = 60.0
    struct LongerThanContracted: Error {}
    static let fetchTimeout: Duration = .seconds(30)

    public init(key: SecretKey, node: LedgerNode, store: ContentStore, fetcher: ContentFetcher?, logger: Logger = .quiet("ledgerd.storage")) {
        self.key = key
        me = key.publicKey.id
        self.node = node
        self.store = store
        self.fetcher = fetcher
        self.logger = logger
    }

    private var running = false

    /// One round: pin what is due, answer what is challenged (a round still running is not doubled).
    public func round() async {
        guard !running else { return }
        running = true
        defer { running = false }
        let contracts = await node.storageContracts(provider: me)
        let pulse = await node.currentPulse
        let open = Set(contracts.map(\.id))
        leaves = leaves.filter { open.contains($0.key) }
        // Challenges first: a slow fetch for one contract must not hold up another's answer.
        for contract in contracts where contract.challengeOpen(atPulse: pulse) {
            if let period = contract.challengePeriod { await answer(contract, period: period) }
        }
        for contract in contracts { await keep(contract) }
    }

    /// Pins the contract's content, fetching it first when it is not all held here.
    func keep(_ contract: StorageContract) async {
        guard let cid = try? CID(text: contract.cid) else { return }
        if (try? store.isPinned(cid)) == true, missing[contract.id] == nil { return }
        if let last = missing[contract.id], Date().timeIntervalSince(last) < Self.fetchRetrySeconds { return }
        do {
            if let fetcher { _ = try await fetcher.fetch(cid, timeout: Self.fetchTimeout) }
            try store.pin(cid)
            missing[contract.id] = nil
        } catch {
            missing[contract.id] = Date()
            logger.warning("content under a storage contract is not held and could not be fetched",
                           metadata: ["contract": "\(contract.id)", "cid": "\(contract.cid)", "error": "\(error)"])
        }
    }

    /// The contract's segment leaves from the stored file, nil when it is not all here or is not the content.
    func segmentLeaves(_ contract: StorageContract) async -> [Digest]? {
        if let known = leaves[contract.id] { return known }
        guard let cid = try? CID(text: contract.cid) else { return nil }
        var hashed: [Digest] = [], pending: [UInt8] = [], size: UInt64 = 0
        do {
            try await ContentExport(store: store).file(cid) { chunk in
                size += UInt64(chunk.count)
                guard size <= contract.size else { throw LongerThanContracted() }
                pending += chunk
                var offset = 0
                while pending.count - offset >= StorageContract.segmentBytes {
                    hashed.append(MerkleList.leafHash(Array(pending[offset..<(offset + StorageContract.segmentBytes)])))
                    offset += StorageContract.segmentBytes
                }
                pending.removeFirst(offset)
            }
        } catch { return nil }
        if !pending.isEmpty { hashed.append(MerkleList.leafHash(pending)) }
        guard size == contract.size, MerkleList.root(hashed) == contract.root else {
            logger.error("stored content does not match its storage contract's root", metadata: ["contract": "\(contract.id)", "cid": "\(contract.cid)"])
            return nil
        }
        leaves[contract.id] = hashed
        return hashed
    }

    /// Whether every block of the DAG under `root` is in the store's database (at most `blocksMax` looked at).
    func allHeld(_ root: CID) -> Bool {
        var pending = [root], seen: Set<CID> = [root]
        while let cid = pending.popLast() {
            guard (try? store.has(cid)) == true else { return false }
            guard cid.codec == CID.dagPBCodec, let data = try? store.get(cid), let links = try? DagPB.links(of: data) else { continue }
            for link in links where seen.insert(link.cid).inserted {
                guard seen.count <= Self.blocksMax else { return false }
                pending.append(link.cid)
            }
        }
        return true
    }

    /// Blocks a contract's content may have (2^50 bytes in 256 KiB blocks, and their parents).
    static let blocksMax = 1 << 23

    /// Proves the challenged segment, read from the stored file.
    func answer(_ contract: StorageContract, period: UInt64) async {
        let what = "\(contract.id) \(period)"
        guard !proved.contains(what), let cid = try? CID(text: contract.cid) else { return }
        // Every block on disk (the store's cache may still hold blocks another process deleted), then the
        // leaves: a node that lost the content learns it here, and cannot answer.
        guard allHeld(cid), let leaves = await segmentLeaves(contract), contract.challengeIndex < UInt64(leaves.count) else {
            logger.warning("cannot answer a storage challenge: the content is not here", metadata: ["contract": "\(contract.id)", "period": "\(period)"])
            return
        }
        let index = Int(contract.challengeIndex), start = UInt64(index * StorageContract.segmentBytes)
        let end = min(start + UInt64(StorageContract.segmentBytes), contract.size) - 1
        var segment: [UInt8] = []
        do { try await ContentExport(store: store).file(cid, range: start...end) { segment += $0 } } catch { return }
        guard MerkleList.leafHash(segment) == leaves[index] else { return }
        do {
            _ = try await node.submitOwn(StorageRules.prove, body: StorageRules.proveBody(contract: contract.id, segment: segment, path: MerkleList.path(index, leaves)), key: key)
            proved.insert(what)
            logger.info("answered a storage challenge", metadata: ["contract": "\(contract.id)", "period": "\(period)", "segment": "\(index)"])
        } catch {
            logger.warning("storage proof not accepted", metadata: ["contract": "\(contract.id)", "reason": "\(error)"])
        }
    }
}
