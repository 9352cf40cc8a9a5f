import Ledger

/// Blocks already checked against their CIDs, kept in memory up to `bytesMax`, so that content read
/// over and over (a gateway's hot objects) costs neither SQLite nor SHA-256 again. A block is admitted
/// on its second verified read, never its first: a large file streamed once does not push out what is
/// read often, nor grow the node's memory. Eviction is first in, first out. Not thread-safe: the store
/// calls it under its lock.
public struct VerifiedBlocks {
    public static let bytesDefault = 32 << 20
    let bytesMax: Int
    private var blocks: [CID: [UInt8]] = [:]
    private var order: [CID] = []
    private var head = 0
    private var bytes = 0
    /// CIDs read once (admitted on the next read); bounded, oldest forgotten first.
    private var readOnce: Set<CID> = []
    private var readOnceOrder: [CID] = []
    static let readOnceMax = 16_384

    public init(bytesMax: Int) { self.bytesMax = bytesMax }

    func block(_ cid: CID) -> [UInt8]? { blocks[cid] }
    func holds(_ cid: CID) -> Bool { blocks[cid] != nil }

    mutating func verified(_ cid: CID, _ data: [UInt8]) {
        guard bytesMax > 0, data.count <= bytesMax / 4, blocks[cid] == nil else { return }
        guard readOnce.remove(cid) != nil else {
            if readOnceOrder.count >= Self.readOnceMax {
                readOnce.remove(readOnceOrder.removeFirst())
            }
            readOnce.insert(cid)
            readOnceOrder.append(cid)
            return
        }
        blocks[cid] = data
        order.append(cid)
        bytes += data.count
        while bytes > bytesMax, head < order.count {
            if let evicted = blocks.removeValue(forKey: order[head]) { bytes -= evicted.count }
            head += 1
        }
        if head > 1_024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    mutating func removeAll() {
        blocks.removeAll()
        order.removeAll()
        head = 0
        bytes = 0
    }
}
