import Foundation
import Ledger
import NIOConcurrencyHelpers
import Storage

/// Which private MiMei each peer may read, until when: learnt from the capabilities peers present in the
/// head exchange (each checked there against the asking peer's ID), consulted by Bitswap for every
/// block it answers. Bounded: at most `peersMax` peers of `perPeerMax` MiMei each; past that the
/// soonest to expire goes first.
public final class CapabilityGrants: Sendable {
    public static let peersMax = 4_096
    public static let perPeerMax = 256
    private let grants = NIOLockedValueBox([PeerID: [ID: UInt64]]())

    public init() {}

    /// `peer` may read `mimei` until `expires` (milliseconds since 1970).
    public func grant(_ peer: PeerID, _ mimei: ID, until expires: UInt64, now: UInt64) {
        grants.withLockedValue { all in
            var held = (all[peer] ?? [:]).filter { $0.value > now }
            held[mimei] = max(held[mimei] ?? 0, expires)
            while held.count > Self.perPeerMax, let soonest = held.min(by: { $0.value < $1.value })?.key { held[soonest] = nil }
            all[peer] = held
            if all.count > Self.peersMax {
                all = all.compactMapValues { grants in
                    let live = grants.filter { $0.value > now }
                    return live.isEmpty ? nil : live
                }
                while all.count > Self.peersMax, let soonest = all.min(by: { ($0.value.values.max() ?? 0) < ($1.value.values.max() ?? 0) })?.key, soonest != peer {
                    all[soonest] = nil
                }
            }
        }
    }

    /// What `peer` may read now.
    public func access(_ peer: PeerID, now: UInt64) -> ContentAccess {
        .granted(Set(grants.withLockedValue { $0[peer]?.filter { $0.value > now }.keys.map { $0 } ?? [] }))
    }
}
