import Foundation
import Storage
import Testing

/// The durable usage ledger: usage lands in its hour, survives reopening, old hours roll into days with
/// every byte kept, and a day names at most `peersPerDay` peers (the rest summed as `others`).
@Suite struct UsageLedgerTests {
    static func path() throws -> String {
        let folder = NSTemporaryDirectory() + "ledgerd-usage-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/" + UsageLedger.fileName
    }

    @Test func usageIsKeptPerHourRolledIntoDaysAndSurvivesReopening() throws {
        let path = try Self.path()
        let day: Int64 = 20_000 * UsageLedger.day
        do {
            let ledger = try UsageLedger(path: path)
            try ledger.add(["peerA": ["bitswap": .init(served: 100, received: 1)]], now: day + 10)
            try ledger.add(["peerA": ["bitswap": .init(served: 50, received: 2)], "peerB": ["dht": .init(served: 7, received: 0)]], now: day + 20)
            try ledger.add(["peerA": ["bitswap": .init(served: 5, received: 0)]], now: day + 3 * UsageLedger.hour)
            #expect(try ledger.windows(of: "peerA").map(\.usage) == [.init(served: 150, received: 3), .init(served: 5, received: 0)])
        }
        let reopened = try UsageLedger(path: path)
        #expect(try reopened.totals()["peerA"]?["bitswap"] == .init(served: 155, received: 3))
        // Two days later the hours are one day's row, with the same totals.
        try reopened.rollUp(now: day + 3 * UsageLedger.day)
        let windows = try reopened.windows(of: "peerA")
        #expect(windows.count == 1 && windows[0].span == UsageLedger.day && windows[0].start == day && windows[0].usage == .init(served: 155, received: 3))
        #expect(try reopened.totals()["peerB"]?["dht"] == .init(served: 7, received: 0))
        #expect(reopened.rowCount == 2)
    }

    /// A peer's page of windows is its newest, oldest first, whatever the node's age.
    @Test func aPeersWindowsAreItsNewestUpToTheLimitOldestFirst() throws {
        let ledger = try UsageLedger(path: try Self.path())
        let start: Int64 = 20_200 * UsageLedger.day
        for hour in 0..<30 {
            try ledger.add(["peerA": ["bitswap": .init(served: UInt64(hour + 1), received: 0), "dht": .init(served: 1, received: 1)]],
                           now: start + Int64(hour) * UsageLedger.hour)
        }
        let page = try ledger.windows(of: "peerA", limit: 10)
        #expect(page.count == 10)
        #expect(page.map(\.start) == page.map(\.start).sorted(), "oldest first")
        #expect(page.last?.start == start + 29 * UsageLedger.hour && page.first?.start == start + 25 * UsageLedger.hour)
        #expect(try ledger.windows(of: "peerA").count == 60)
    }

    @Test func aDayNamesAtMostItsLimitOfPeersAndSumsTheRest() throws {
        let ledger = try UsageLedger(path: try Self.path())
        let day: Int64 = 20_100 * UsageLedger.day
        var deltas: [String: [String: UsageLedger.Usage]] = [:]
        let count = UsageLedger.peersPerDay + 10
        for index in 0..<count { deltas["peer-\(index)"] = ["bitswap": .init(served: UInt64(index + 1), received: 0)] }
        try ledger.add(deltas, now: day)
        try ledger.rollUp(now: day + 3 * UsageLedger.day)
        let totals = try ledger.totals()
        #expect(totals.count == UsageLedger.peersPerDay + 1 && totals[UsageLedger.others] != nil)
        // The smallest ten are the ones summed, and no byte is lost.
        #expect(totals[UsageLedger.others]?["bitswap"]?.served == (1...10).reduce(0, +))
        #expect(totals.values.reduce(0) { $0 + ($1["bitswap"]?.served ?? 0) } == UInt64(count * (count + 1) / 2))
    }
}
