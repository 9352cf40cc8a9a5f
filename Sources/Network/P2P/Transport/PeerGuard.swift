import Foundation
import NIOConcurrencyHelpers

/// The node's defences against peers: bans for peers that broke a protocol, a limit on handshake
/// failures per IP address, and per-peer rate limits on opened streams. Time is passed in, so the
/// rules are testable without waiting.
public final class PeerGuard: Sendable {
    public struct Limits: Sendable {
        public var maxConnections = 256
        public var banSeconds: Double = 3600
        /// Failed handshakes from one IP address within a minute before that address is refused for a minute.
        public var handshakeFailuresPerMinute = 64
        /// Streams a peer may open per second (burst of the same size).
        public var streamsPerSecond = 200.0
        public init() {}
    }

    private struct State {
        var bannedPeers: [PeerID: (until: Double, reason: String)] = [:]
        var failures: [String: [Double]] = [:]
        var buckets: [PeerID: (tokens: Double, at: Double)] = [:]
    }

    public let limits: Limits
    private let state = NIOLockedValueBox(State())

    public init(limits: Limits = Limits()) { self.limits = limits }

    public static func now() -> Double { Date().timeIntervalSince1970 }

    /// Entries kept per table (bans, hosts, rate buckets); expired ones are pruned first when it is full.
    static let maxEntries = 10_000

    public func ban(_ peer: PeerID, reason: String, now: Double = now()) {
        state.withLockedValue { state in
            if state.bannedPeers.count >= Self.maxEntries { state.bannedPeers = state.bannedPeers.filter { $0.value.until > now } }
            if state.bannedPeers.count >= Self.maxEntries, let first = state.bannedPeers.min(by: { $0.value.until < $1.value.until })?.key {
                state.bannedPeers[first] = nil
            }
            state.bannedPeers[peer] = (now + limits.banSeconds, String(reason.prefix(200)))
        }
    }

    public func banReason(_ peer: PeerID, now: Double = now()) -> String? {
        state.withLockedValue { state in
            guard let ban = state.bannedPeers[peer] else { return nil }
            if ban.until <= now { state.bannedPeers[peer] = nil; return nil }
            return ban.reason
        }
    }

    public var bans: [(peer: PeerID, reason: String)] {
        let now = Self.now()
        return state.withLockedValue { $0.bannedPeers.filter { $0.value.until > now }.map { ($0.key, $0.value.reason) } }
    }

    public func handshakeFailed(host: String, now: Double = now()) {
        state.withLockedValue { state in
            if state.failures[host] == nil && state.failures.count >= Self.maxEntries {
                state.failures = state.failures.filter { $0.value.contains { $0 > now - 60 } }
                if state.failures.count >= Self.maxEntries { return }
            }
            state.failures[host, default: []].append(now)
            state.failures[host] = state.failures[host]!.filter { $0 > now - 60 }
        }
    }

    /// Loopback is never refused: its peers are processes on this machine, which the owner controls,
    /// and refusing 127.0.0.1 would cut off every local peer for one bad one.
    public func hostRefused(_ host: String, now: Double = now()) -> Bool {
        if host == "127.0.0.1" || host == "::1" { return false }
        return state.withLockedValue { ($0.failures[host]?.filter { $0 > now - 60 }.count ?? 0) >= limits.handshakeFailuresPerMinute }
    }

    /// Takes a token for a new stream from `peer`; false when the peer is over its rate.
    public func allowStream(from peer: PeerID, now: Double = now()) -> Bool {
        state.withLockedValue { state in
            let rate = limits.streamsPerSecond
            if state.buckets[peer] == nil && state.buckets.count >= Self.maxEntries {
                state.buckets = state.buckets.filter { $0.value.at > now - 60 }  // idle a minute: full again anyway
            }
            var bucket = state.buckets[peer] ?? (rate, now)
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            guard bucket.tokens >= 1 else { state.buckets[peer] = bucket; return false }
            bucket.tokens -= 1
            state.buckets[peer] = bucket
            return true
        }
    }
}
