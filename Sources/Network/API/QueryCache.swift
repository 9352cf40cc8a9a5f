import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Answers of expensive public reads, kept for one chain height. A cached answer must be a function of
/// the committed chain alone, so it holds until the next block; the first read at a newer height empties
/// the cache. Keys come from requests (an organization ID), so the cache keeps at most `capacity`
/// answers and drops the oldest beyond that: a client walking many IDs costs work, not memory.
public final class QueryCache: Sendable {
    public let capacity: Int
    private struct Contents {
        var height: UInt64?
        var values: [String: any Sendable] = [:]
        var order: [String] = []
    }
    private let contents = NIOLockedValueBox(Contents())
    private let tallies = NIOLockedValueBox((hits: 0, misses: 0))
    private let hitCounter = Counter(label: "ledgerd_api_cache_hits_total")
    private let missCounter = Counter(label: "ledgerd_api_cache_misses_total")

    public init(capacity: Int = 512) { self.capacity = max(capacity, 1) }

    /// The answer for `key` at `height`, computed by `compute` when absent. Read `height` before
    /// `compute` reads the chain: then an answer's data is never older than the height it is filed under
    /// (it may be newer, if a block landed in between; the next read at that block's height recomputes).
    /// A read at an older height than the cache's computes without filing.
    public func value<T: Sendable>(_ key: String, height: UInt64, compute: () async throws -> T) async rethrows -> T {
        let cached: T? = contents.withLockedValue { contents in
            if contents.height.map({ height > $0 }) ?? true { contents = Contents(height: height) }
            return contents.height == height ? contents.values[key] as? T : nil
        }
        if let cached {
            tallies.withLockedValue { $0.hits += 1 }
            hitCounter.increment()
            return cached
        }
        tallies.withLockedValue { $0.misses += 1 }
        missCounter.increment()
        let value = try await compute()
        contents.withLockedValue { contents in
            guard contents.height == height, contents.values[key] == nil else { return }
            if contents.order.count >= capacity {
                contents.values.removeValue(forKey: contents.order.removeFirst())
            }
            contents.values[key] = value
            contents.order.append(key)
        }
        return value
    }

    /// Reads answered from the cache, and reads that computed, since the process started.
    public var hits: Int { tallies.withLockedValue { $0.hits } }
    public var misses: Int { tallies.withLockedValue { $0.misses } }
    public var count: Int { contents.withLockedValue { $0.values.count } }
}

/// Counts the store reads (SQLite queries) the API and explorer make, so that tests can hold expensive
/// pages to a bound. Also exported as `ledgerd_api_store_reads_total`.
public final class StoreReadCounter: Sendable {
    private let reads = NIOLockedValueBox(0)
    private let counter = Counter(label: "ledgerd_api_store_reads_total")

    public init() {}

    func add(_ count: Int) {
        reads.withLockedValue { $0 += count }
        counter.increment(by: count)
    }

    public var total: Int { reads.withLockedValue { $0 } }
}
