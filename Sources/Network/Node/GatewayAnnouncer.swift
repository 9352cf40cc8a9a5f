import Foundation
import Ledger
import Logging

/// Tells the network where this node's gateway answers (specs/content.md §Template page): its
/// `/ledgerd/addr/<node ID>` DHT record, signed by the node key, holds one `gateway <URL>` line per
/// gateway URL, beside any other lines the operator put there. Put at start (again each round until a
/// peer holds it) and every hour; `seq` is the time in milliseconds, so a newer record always wins.
public actor GatewayAnnouncer {
    let key: SecretKey
    let dht: DHT
    let logger: Logger
    private(set) var urls: [String] = []
    private var announced: Date?
    static let intervalSeconds = 3_600.0
    /// Lines of a record's value kept when it is rewritten, and gateway URLs listed, at most.
    static let linesMax = 64

    public init(key: SecretKey, dht: DHT, logger: Logger = .quiet("ledgerd.gateway")) {
        self.key = key
        self.dht = dht
        self.logger = logger
    }

    public var recordKey: String { "/ledgerd/addr/\(key.publicKey.id.text)" }

    /// The URLs to announce (the configured ones, or the address the HTTP server is bound to).
    public func set(_ urls: [String]) {
        self.urls = Array(urls.prefix(Self.linesMax))
        announced = nil
    }

    /// Gateway URLs in an address record's value: `gateway http(s)://…` lines.
    public static func gatewayURLs(in value: [UInt8]) -> [String] {
        String(decoding: value, as: UTF8.self).split(whereSeparator: \.isNewline).prefix(linesMax).compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == "gateway", let url = URL(string: String(parts[1])), ["http", "https"].contains(url.scheme),
                  url.host != nil, url.user == nil, url.query == nil, url.fragment == nil else { return nil }
            return String(parts[1]).hasSuffix("/") ? String(String(parts[1]).dropLast()) : String(parts[1])
        }
    }

    public func announceIfDue() async {
        guard !urls.isEmpty else { return }
        if let announced, Date().timeIntervalSince(announced) < Self.intervalSeconds { return }
        let kept = (await dht.get(recordKey)).map { String(decoding: $0.value, as: UTF8.self) } ?? ""
        let others = kept.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("gateway ") }.prefix(Self.linesMax).map(String.init)
        let value = Array((urls.map { "gateway " + $0 } + others).joined(separator: "\n").utf8).prefix(DHTRecord.maxValue)
        let record = DHTRecord(key: recordKey, value: Array(value), seq: UInt64(Date().timeIntervalSince1970 * 1000), signer: key)
        do {
            if try await dht.put(record) > 0 {
                announced = Date()
                logger.info("gateway announced", metadata: ["urls": "\(urls.joined(separator: " "))"])
            }
        } catch {
            logger.warning("could not announce the gateway", metadata: ["error": "\(error)"])
        }
    }
}
