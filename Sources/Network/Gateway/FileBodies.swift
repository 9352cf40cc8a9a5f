import Ledger
import NIOConcurrencyHelpers
import NIOCore

/// Whole small files the gateway serves often, kept as the ByteBuffers it writes (specs/content.md
/// §Gateway): a hit is written as slices of one buffer, with no SQLite read, no dag-pb decoding and no
/// copy before the kernel's. A file of at most `fileBytesMax` is admitted on its second request, never its
/// first, and only when every block of it is public (a stranger could read it all), so the cache can never
/// hand a private block to anyone; the request's root is still checked for a private mark each time.
/// Content under a CID never changes, so an entry is never stale. First in, first out, `bytesMax` in all.
public final class FileBodies: Sendable {
    public static let bytesDefault = 64 << 20
    public static let fileBytesMax = 4 << 20
    static let seenMax = 16_384

    private struct State {
        var bodies: [CID: ByteBuffer] = [:]
        var order: [CID] = []
        var bytes = 0
        var seen: Set<CID> = []
        var seenOrder: [CID] = []
    }

    let bytesMax: Int
    private let state = NIOLockedValueBox(State())

    public init(bytesMax: Int = FileBodies.bytesDefault) { self.bytesMax = bytesMax }

    public func body(_ cid: CID) -> ByteBuffer? { state.withLockedValue { $0.bodies[cid] } }

    /// Whether a file of `size` bytes asked for now should be read whole into the cache (its second ask).
    func shouldAdmit(_ cid: CID, size: UInt64) -> Bool {
        guard bytesMax > 0, size > 0, size <= UInt64(min(Self.fileBytesMax, bytesMax / 4)) else { return false }
        return state.withLockedValue { state in
            if state.bodies[cid] != nil || state.seen.remove(cid) != nil { return state.bodies[cid] == nil }
            if state.seenOrder.count >= Self.seenMax { state.seen.remove(state.seenOrder.removeFirst()) }
            state.seen.insert(cid)
            state.seenOrder.append(cid)
            return false
        }
    }

    func admit(_ cid: CID, _ body: ByteBuffer) {
        state.withLockedValue { state in
            guard state.bodies[cid] == nil else { return }
            state.bodies[cid] = body
            state.order.append(cid)
            state.bytes += body.readableBytes
            while state.bytes > bytesMax, !state.order.isEmpty {
                if let evicted = state.bodies.removeValue(forKey: state.order.removeFirst()) { state.bytes -= evicted.readableBytes }
            }
        }
    }
}
