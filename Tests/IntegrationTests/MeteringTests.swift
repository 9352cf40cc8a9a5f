import Credit
import Foundation
import Ledger
import Testing

/// Bitswap billed into the ledger between real ledgerd processes on loopback (specs/credit.md §Metering
/// in practice). A serves a 50 MiB file to B under a 10 MiB letter of credit: service stops between the
/// limit and the limit plus the tolerance, the receipts B signed are settled on the chain, a raised limit
/// lets the fetch finish, and the bytes A served, B received and the chain settled agree. A settlement
/// of more than A acknowledged is disputed by B's node on its own, and A loses its deposit to B. C, which
/// never signs a receipt, is cut off at the same point.
@Suite(.serialized) struct MeteringTests {
    static let mib = 1 << 20

    static func metering(_ node: NodeProcess) async throws -> [String: Any] {
        let answer = try await HTTP.get(node.url + "/api/v1/metering")
        guard answer.status == 200 else { throw TestFailure("metering: \(answer.status) \(answer.text.prefix(200))") }
        return answer.json
    }

    static func provided(_ node: NodeProcess, to consumer: String) async throws -> [String: Any] {
        (try await metering(node)["provided"] as? [[String: Any]] ?? []).first { $0["consumer"] as? String == consumer } ?? [:]
    }

    static func consumed(_ node: NodeProcess, from provider: String) async throws -> [String: Any] {
        (try await metering(node)["consumed"] as? [[String: Any]] ?? []).first { $0["provider"] as? String == provider } ?? [:]
    }

    static func number(_ view: [String: Any], _ key: String) -> Int { (view[key] as? NSNumber)?.intValue ?? -1 }

    static func settlement(_ node: NodeProcess, provider: String, consumer: String) async throws -> [String: Any]? {
        let list = try await HTTP.get(node.url + "/api/v1/settlements?party=" + consumer).json["settlements"] as? [[String: Any]] ?? []
        return list.first { $0["provider"] as? String == provider && $0["service"] as? String == "bandwidth" }
    }

    static func balance(_ node: NodeProcess, _ id: String) async throws -> Int {
        number(try await HTTP.get(node.url + "/api/v1/accounts/" + id).json, "balance")
    }

    @Test func serviceStopsAtTheCreditLimitIsSettledResumesWhenRaisedAndAnOverClaimIsDisputed() async throws {
        let a = try NodeProcess(name: "meter-a")
        let folder = Paths.temporaryFolder("meter-files")
        var generator = SystemRandomNumberGenerator()
        let file = (0..<(50 * Self.mib)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(file).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let add = try a.ctl(["ipfs", "add", "-Q", folder + "/big.bin"])
        #expect(add.status == 0, "\(add.error)")
        let cid = add.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let fast = ["--settle-interval", "2"]
        try a.start(extra: fast)
        defer { a.stop() }
        let b = try NodeProcess(name: "meter-b", genesisOf: a)
        try b.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "15"] + fast)
        defer { b.stop() }
        let aID = try a.key("node").publicKey.id.text, bID = try b.key("node").publicKey.id.text

        // A grants B 10 MiB; B fetches the 50 MiB file once its own chain shows the line.
        #expect(try a.ctl(["credit", "grant", "--to", bID, "--limit", "10MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("B syncs the line") { try P2PNetworkTests.height(b) == P2PNetworkTests.height(a) }
        let out = Paths.temporaryFolder("meter-out")
        let first = try b.ctl(["ipfs", "get", cid, "-o", out + "/first.bin"])
        #expect(first.status != 0 && first.error.contains("stopped serving this node") && first.error.contains("raise the limit"), "\(first.error)")
        // B's gateway says why, with 402.
        let refused = try await HTTP.get(b.url + "/ipfs/" + cid)
        #expect(refused.status == 402 && refused.text.contains("credit_exhausted") && refused.text.contains(aID), "\(refused.status) \(refused.text)")
        var served = try await Self.provided(a, to: bID)
        let limit = 10 * Self.mib, tolerance = Self.mib
        #expect(Self.number(served, "served") > limit - 256 * 1024 && Self.number(served, "served") <= limit + tolerance, "\(served)")
        #expect(served["serving"] as? Bool == false && (served["stopped"] as? String ?? "").contains("credit exhausted"), "\(served)")
        #expect(a.log().contains("metering stopped serving a peer"))

        // B's receipts reach A, and A settles them: the chain books B's debt within the line.
        try await P2PNetworkTests.waitUntilAsync("a settlement of B's usage is on the chain") {
            let record = try await Self.settlement(a, provider: aID, consumer: bID)
            return Self.number(record ?? [:], "units") > limit / 2
        }
        let booked = try await Self.settlement(a, provider: aID, consumer: bID) ?? [:]
        #expect(booked["pending"] as? Bool == true && booked["submitter"] as? String == aID)
        #expect(Self.number(booked, "units") <= Self.number(try await Self.provided(a, to: bID), "receipted"))

        // A raises the limit: service resumes by itself, and B's fetch of the rest completes.
        #expect(try a.ctl(["credit", "raise", "--to", bID, "--by", "54MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("B syncs the raise") { try P2PNetworkTests.height(b) == P2PNetworkTests.height(a) }
        let second = try b.ctl(["ipfs", "get", cid, "-o", out + "/second.bin"])
        #expect(second.status == 0, "\(second.error)")
        #expect(FileManager.default.contents(atPath: out + "/second.bin") == Data(file))

        // Served, received, receipted and settled agree once the last receipt is settled.
        try await P2PNetworkTests.waitUntilAsync("the chain settles everything B received", seconds: 45) {
            let received = Self.number(try await Self.consumed(b, from: aID), "received")
            let record = try await Self.settlement(a, provider: aID, consumer: bID) ?? [:]
            return received > 50 * Self.mib && Self.number(record, "units") == received
        }
        served = try await Self.provided(a, to: bID)
        let received = try await Self.consumed(b, from: aID)
        let settledUnits = Self.number(try await Self.settlement(a, provider: aID, consumer: bID) ?? [:], "units")
        #expect(served["serving"] as? Bool == true)
        #expect(Self.number(received, "signed") == Self.number(received, "received"))
        #expect(Self.number(served, "receipted") == settledUnits)
        // Billed ÷ served is 1 within the tolerance (blocks in flight when service stopped may differ).
        #expect(abs(Self.number(served, "served") - settledUnits) <= tolerance, "served \(served), settled \(settledUnits)")
        let table = try b.ctl(["metering"])
        #expect(table.status == 0 && table.output.contains(aID) && table.output.contains("RECEIVED FROM"), "\(table.output)")

        // A settles more than it acknowledged for an early receipt number (a receipt B's key signed twice
        // under one number, as a consumer restored from an old backup would): B's node disputes it with
        // A's own acknowledgement, the booking is undone, and A's deposit goes to B.
        let before = try await Self.settlement(a, provider: aID, consumer: bID) ?? [:]
        let chain = try a.ctlJSON(["status"])["chain"] as? String ?? ""
        let forged = UsageReceipt(chain: chain, provider: try a.key("node").publicKey.id, consumer: try b.key("node").publicKey.id,
                                  service: .bandwidth, sequence: 1, units: UInt64(settledUnits + 5 * Self.mib))
        let receiptFile = folder + "/overclaim.json"
        let signed = SignedReceipt(receipt: forged, key: try b.key("node"))
        try JSONSerialization.data(withJSONObject: ["receipt": Hex.encode(signed.encoded)]).write(to: URL(fileURLWithPath: receiptFile))
        let balanceBefore = try await Self.balance(a, bID)
        let claim = try a.ctl(["receipt", "settle", receiptFile])
        #expect(claim.status == 0, "\(claim.error)")
        try await P2PNetworkTests.waitUntilAsync("B's node disputes the over-claim and wins", seconds: 30) {
            let record = try await Self.settlement(a, provider: aID, consumer: bID) ?? [:]
            return Self.number(record, "units") == settledUnits && record["pending"] as? Bool == false
        }
        #expect(b.log().contains("disputed a provider's settlement of more than it acknowledged"))
        let after = try await Self.settlement(a, provider: aID, consumer: bID) ?? [:]
        #expect(Self.number(after, "sequence") == Self.number(before, "sequence"))
        #expect(try await Self.balance(a, bID) == balanceBefore + Self.mib, "A's 1 MiB deposit goes to B")
    }

    @Test func aConsumerThatStopsSigningIsCutOffAtTheSamePoint() async throws {
        let a = try NodeProcess(name: "meter-silent-a")
        let folder = Paths.temporaryFolder("meter-silent")
        var generator = SystemRandomNumberGenerator()
        let file = (0..<(24 * Self.mib)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(file).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let cid = try a.ctl(["ipfs", "add", "-Q", folder + "/big.bin"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try a.start(extra: ["--settle-interval", "2"])
        defer { a.stop() }
        let c = try NodeProcess(name: "meter-silent-c", genesisOf: a)
        try c.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "15", "--no-sign-receipts"])
        defer { c.stop() }
        let cID = try c.key("node").publicKey.id.text
        #expect(try a.ctl(["credit", "grant", "--to", cID, "--limit", "10MiB"]).status == 0)
        try await P2PNetworkTests.waitUntil("C syncs the line") { try P2PNetworkTests.height(c) == P2PNetworkTests.height(a) }
        let got = try c.ctl(["ipfs", "get", cid, "-o", folder + "/out.bin"])
        #expect(got.status != 0, "a consumer that signs nothing got 24 MiB on a 10 MiB line")
        let served = try await Self.provided(a, to: cID)
        #expect(Self.number(served, "served") > 10 * Self.mib - 256 * 1024 && Self.number(served, "served") <= 11 * Self.mib, "\(served)")
        #expect(Self.number(served, "receipted") == 0 && served["serving"] as? Bool == false)
        // Nothing signed, nothing to settle: the loss is A's, bounded by the line and the tolerance.
        try await Task.sleep(for: .seconds(3))
        #expect(try await Self.settlement(a, provider: try a.key("node").publicKey.id.text, consumer: cID) == nil)
        // A peer without a line is served its free allowance instead (here: the default 1 GiB a day).
        let d = try NodeProcess(name: "meter-free-d", genesisOf: a)
        try d.start(extra: ["--bootstrap", a.p2pAddress, "--fetch-timeout", "15"])
        defer { d.stop() }
        let free = try d.ctl(["ipfs", "get", cid, "-o", folder + "/free.bin"])
        #expect(free.status == 0, "\(free.error)")
        #expect(try await Self.provided(a, to: try d.key("node").publicKey.id.text).isEmpty, "free service is not billed")
    }
}
