import Foundation
import NIOCore

/// What the gateway serves to anonymous browsers (specs/usage.md §Gateway): accounted to the node's
/// operator — it is the operator's bandwidth that pays — apart from peer traffic, with an optional free
/// allowance per client address a day and an optional limit on all of them together. Counts per client
/// live in memory for the day only (an address is not worth keeping); the total goes into the usage
/// ledger as `anonymous`, service `gateway`.
public final class GatewayTraffic: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        /// Bytes a day one client address may be served (nil: no allowance).
        public var allowancePerClient: UInt64?
        /// Bytes a day all anonymous clients together may be served (nil: no limit).
        public var dailyLimit: UInt64?
        public init(allowancePerClient: UInt64? = nil, dailyLimit: UInt64? = nil) {
            self.allowancePerClient = allowancePerClient
            self.dailyLimit = dailyLimit
        }
    }

    /// The usage ledger's name for anonymous gateway clients, and the service.
    public static let account = "anonymous"
    public static let service = "gateway"
    /// Client addresses counted a day; past it the rest share one count (so a flood of addresses costs
    /// memory once, and shares one allowance).
    static let clientsMax = 65_536
    static let othersKey = "others"

    public let settings: Settings
    private let lock = NSLock()
    private var day: Int64 = 0
    private var perClient: [String: UInt64] = [:]
    private var today: UInt64 = 0
    private var refusedToday = 0
    private var undrained: UInt64 = 0

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// The address an allowance is counted by: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's prefix: counting whole addresses would give each of its 2^64 its own allowance).
    public static func client(_ address: SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?: return v4.host
        case .v6(let v6)?:
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 client.
            if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":") + "::/64"
        default: return othersKey
        }
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case clientAllowanceUsed(UInt64)
        case dailyLimitReached(UInt64)

        public var code: String {
            switch self {
            case .clientAllowanceUsed: "client_allowance_used"
            case .dailyLimitReached: "gateway_limit_reached"
            }
        }

        public var description: String {
            switch self {
            case .clientAllowanceUsed(let bytes): "this address has used its free allowance of \(bytes) bytes today; it renews at 00:00 UTC"
            case .dailyLimitReached(let bytes): "this gateway has served its limit of \(bytes) bytes to anonymous clients today; it renews at 00:00 UTC"
            }
        }
    }

    private func roll(_ now: Date) {
        let current = Int64(now.timeIntervalSince1970) / 86_400
        guard current != day else { return }
        day = current
        perClient.removeAll(keepingCapacity: true)
        today = 0
        refusedToday = 0
    }

    /// Whether `client` may be served now: refused past its allowance or the day's limit.
    public func check(_ client: String, now: Date = Date()) -> Refusal? {
        lock.withLock {
            roll(now)
            if let limit = settings.dailyLimit, today >= limit {
                refusedToday += 1
                return .dailyLimitReached(limit)
            }
            if let allowance = settings.allowancePerClient, perClient[client, default: perClient[Self.othersKey] ?? 0] >= allowance {
                refusedToday += 1
                return .clientAllowanceUsed(allowance)
            }
            return nil
        }
    }

    /// Bytes of a response's body as they are written.
    public func add(_ client: String, _ bytes: Int, now: Date = Date()) {
        guard bytes > 0 else { return }
        lock.withLock {
            roll(now)
            let key = perClient[client] != nil || perClient.count < Self.clientsMax ? client : Self.othersKey
            perClient[key, default: 0] &+= UInt64(bytes)
            today &+= UInt64(bytes)
            undrained &+= UInt64(bytes)
        }
    }

    /// Bytes served since the last drain (for the usage ledger).
    public func drain() -> UInt64 {
        lock.withLock {
            defer { undrained = 0 }
            return undrained
        }
    }

    /// Today's figures: bytes, client addresses seen, requests refused.
    public func snapshot(now: Date = Date()) -> (served: UInt64, clients: Int, refused: Int) {
        lock.withLock {
            roll(now)
            return (today, perClient.count, refusedToday)
        }
    }

    /// Seconds until the allowances renew.
    public static func secondsToRenewal(now: Date = Date()) -> Int {
        let seconds = Int64(now.timeIntervalSince1970)
        return Int(86_400 - seconds % 86_400)
    }
}
