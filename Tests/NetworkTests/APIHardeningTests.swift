import Consensus
import Credit
import Foundation
import Ledger
import LedgerTestSupport
import Logging
import Storage
import Testing
@testable import LedgerNetwork

/// The API and explorer against a hostile client, in process: admin authentication, one-line errors, and
/// expensive public pages bounded and cached per height. No clock is read: bounds are counted store reads
/// and cache hits, never times.
@Suite struct APIHardeningTests {
    // MARK: - Admin token

    /// The attack: an empty cookie file and `Authorization: Bearer ` with nothing after it.
    @Test func anEmptyTokenNeverAuthenticates() {
        #expect(!AdminToken.authenticates("Bearer ", token: ""))
        #expect(!AdminToken.authenticates("Bearer", token: ""))
        #expect(!AdminToken.authenticates("", token: ""))
        #expect(!AdminToken.authenticates(nil, token: ""))
        #expect(!AdminToken.authenticates("Bearer ", token: "abc"))
        #expect(!AdminToken.authenticates("Bearer ab", token: "abc"))
        #expect(!AdminToken.authenticates("Bearer abd", token: "abc"))
        #expect(!AdminToken.authenticates("bearer abc", token: "abc"))
        #expect(AdminToken.authenticates("Bearer abc", token: "abc"))
    }

    @Test func anEmptyOrMissingCookieIsRegenerated() throws {
        let directory = DataDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-cookie-\(UUID().uuidString.prefix(8))").path)
        try directory.createDirectories()
        // Missing, then empty, then whitespace only: each time a fresh 64-hex token, owner-only.
        let first = try AdminCookie.load(directory)
        #expect(first.regenerated && first.token.count == 64)
        try Data().write(to: URL(fileURLWithPath: directory.cookiePath))
        let second = try AdminCookie.load(directory)
        #expect(second.regenerated && second.token.count == 64 && second.token != first.token)
        try Data(" \n".utf8).write(to: URL(fileURLWithPath: directory.cookiePath))
        #expect(try AdminCookie.load(directory).regenerated)
        // A good cookie is kept as it is.
        let kept = try AdminCookie.load(directory)
        let onDisk = try directory.readCookie()
        #expect(!kept.regenerated && kept.token == onDisk)
        let permissions = try FileManager.default.attributesOfItem(atPath: directory.cookiePath)[.posixPermissions] as? NSNumber
        #expect(permissions?.intValue == 0o600)
    }

    // MARK: - Error messages

    @Test func errorMessagesAreOneBoundedLine() {
        let hostile = "ld1\n\r\t\u{0}\u{2028}" + String(repeating: "x", count: 10_000)
        let error = APIError.badRequest("account '\(hostile)'")
        #expect(!error.message.contains("\n") && !error.message.contains("\r") && !error.message.contains("\u{2028}"))
        #expect(error.message.unicodeScalars.count <= APIError.messageMax)
        #expect(Parse.quote(hostile).unicodeScalars.count <= 64 + 2)
        #expect(APIError.oneLine("a\nb", max: 10) == "a\\nb")
        do {
            _ = try Parse.id(hostile[...], what: "account")
            Issue.record("parsed a hostile ID")
        } catch let error as APIError {
            #expect(error.status == .badRequest && !error.message.contains("\n") && error.message.count < 200, "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    // MARK: - Expensive pages

    /// A node in this process on a chain with an organization of five members and `events` income events
    /// (each paid out to the members), and the chain that made its blocks (to append more).
    static func organizationNode(events: Int) async throws -> (node: LedgerNode, queries: LedgerQueries, org: ID, chain: TestChain) {
        var chain = TestChain(balances: (1...6).map { (testKey($0), 1 << 30) })
        var genesis = Genesis.development(chainID: TestChain.chainID, timeMillis: 1_000_000, bookkeeper: testKey(0).publicKey,
                                          balances: (1...6).map { (testKey($0).publicKey.id, 1 << 30) })
        genesis.parameters.publicityWindowPulses = 86_400
        let built = try genesis.build()
        #expect(built.block.hash == chain.header.hash)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerd-api-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try LedgerStore(path: directory.appendingPathComponent("ledger.sqlite").path, create: true)
        try store.initialize(genesis: built.block, state: built.state)
        let node = try LedgerNode(store: store, machine: StateMachine(rules: LedgerRules.all + CreditRules.all), key: testKey(0),
                                  clock: { 10_000_000_000 }, logger: .quiet("ledgerd.test"))
        let org = testKey(50).publicKey.id
        // Half to the supervisors, half to the members: every event pays all five.
        let contract = ConsensusContract(organization: .zero, version: 1, splits: [.init(.role(.supervisor), ppm: 500_000), .init(.role(.member), ppm: 500_000)],
                                         adoptedHeight: 0)
        func commit(_ type: String, _ body: CBOR, _ keys: [SecretKey]) async throws {
            #expect(try await node.importBlock(chain.apply(chain.transaction(type, body, keys))))
        }
        try await commit(OrganizationRules.create, OrganizationRules.createBody(name: "Bounded", description: "", contract: contract), [testKey(1), testKey(50)])
        for member in 2...5 {
            try await commit(OrganizationRules.join, OrganizationRules.organizationBody(org), [testKey(member)])
            try await commit(OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: testKey(member).publicKey.id), [testKey(1)])
        }
        for event in 0..<events {
            try await commit(EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: 1_000_000, reference: "ad-\(event)"), [testKey(6)])
        }
        return (node, LedgerQueries(node: node, info: NodeInfo(nodeKey: testKey(0).publicKey, version: "test", p2pAddress: "")), org, chain)
    }

    /// The organization page audits its latest 50 income events with a bounded number of store reads per
    /// event, whatever the number of recipients (it used to prove every recipient's balance of every
    /// event: 3 + 2 × recipients reads each), and a second view at the same height reads nothing.
    @Test func theOrganizationPageIsBoundedAndCachedPerHeight() async throws {
        let events = 12
        var (node, queries, org, chain) = try await Self.organizationNode(events: events)
        let explorer = try ExplorerRoutes(queries: queries)
        // Every event pays several recipients, so a per-recipient cost would show.
        let detail = try await queries.incomeEvent(org.text[...], sequence: "1")
        #expect((detail["payouts"] as? [[String: Any]])?.count ?? 0 == 5, "\(detail)")

        let before = queries.reads.total
        let (_, _, data) = try await explorer.organizationPage(org.text[...])
        let firstReads = queries.reads.total - before
        let rows = data["events"] as? [[String: Any]] ?? []
        #expect(rows.count == events)
        #expect(rows.allSatisfy { $0["audit_text"] as? String == "verified" }, "\(rows)")
        #expect(firstReads <= 3 * events + 5, "the organization page made \(firstReads) store reads for \(events) events")

        // Same height: served from the cache, no store read, the same audits.
        let cachedBefore = queries.reads.total
        let (_, _, again) = try await explorer.organizationPage(org.text[...])
        #expect(queries.reads.total == cachedBefore)
        #expect((again["events"] as? [[String: Any]])?.map { $0["audit_text"] as? String } == rows.map { $0["audit_text"] as? String })

        // A new block: computed again, and the new event is there.
        #expect(try await node.importBlock(chain.apply(chain.transaction(EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: 7, reference: "late"), [testKey(6)]))))
        let misses = queries.cache.misses
        let (_, _, after) = try await explorer.organizationPage(org.text[...])
        #expect(queries.cache.misses > misses)
        #expect((after["events"] as? [[String: Any]])?.count == events + 1)
    }

    /// The netting search runs once per height, however often it is asked for.
    @Test func nettingIsComputedOncePerHeight() async throws {
        var (node, queries, _, chain) = try await Self.organizationNode(events: 0)
        let first = try await queries.netting()
        let misses = queries.cache.misses, hits = queries.cache.hits
        for _ in 0..<5 { _ = try await queries.netting() }
        #expect(queries.cache.misses == misses && queries.cache.hits == hits + 5)
        #expect(try await queries.netting()["total_debt"] as? UInt64 == first["total_debt"] as? UInt64)
        #expect(try await node.importBlock(chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))))
        _ = try await queries.netting()
        #expect(queries.cache.misses == misses + 1)
    }

    /// The credit graph behind path finding is built once per height and pulse, and the dividends CSV
    /// (every payout of an organization) is made once per height.
    @Test func pathGraphAndDividendsExportAreMadeOncePerHeight() async throws {
        let (_, queries, org, _) = try await Self.organizationNode(events: 3)
        let (a, b) = (testKey(1).publicKey.id.text[...], testKey(2).publicKey.id.text[...])
        _ = try? await queries.creditPath(from: a, to: b, amount: "1")
        let misses = queries.cache.misses, hits = queries.cache.hits
        for _ in 0..<5 { _ = try? await queries.creditPath(from: a, to: b, amount: "1") }
        #expect(queries.cache.misses == misses && queries.cache.hits == hits + 5)

        let csv = try await queries.dividendsCSV(org.text[...])
        #expect(csv.split(separator: "\n").count == 1 + 3 * 5)
        let reads = queries.reads.total
        for _ in 0..<5 { #expect(try await queries.dividendsCSV(org.text[...]) == csv) }
        #expect(queries.reads.total == reads && queries.exports.hits == 5)
    }

    /// The dividends CSV changes only with an income event: a block without one serves the same export
    /// from the cache; a new event makes it again, with the event's rows.
    @Test func theDividendsExportIsMadeOncePerIncomeEventNotPerBlock() async throws {
        var (node, queries, org, chain) = try await Self.organizationNode(events: 2)
        let csv = try await queries.dividendsCSV(org.text[...])
        #expect(try await node.importBlock(chain.apply(chain.transaction(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)]))))
        let reads = queries.reads.total
        #expect(try await queries.dividendsCSV(org.text[...]) == csv)
        #expect(queries.reads.total == reads, "a block without income left the export as it was")
        #expect(try await node.importBlock(chain.apply(chain.transaction(EconomyRules.income, EconomyRules.incomeBody(organization: org, amount: 1_000_000, reference: "third"), [testKey(6)]))))
        let after = try await queries.dividendsCSV(org.text[...])
        #expect(after.split(separator: "\n").count == 1 + 3 * 5 && after.hasPrefix(csv))
    }

    /// Anyone may apply to an organization, and the rules do not bound applicants: its view lists every
    /// member and only the first 200 applicants, with their count, so a crowd of applicants cannot make
    /// each read of it cost the crowd's size in record reads.
    @Test func anOrganizationsViewListsAtMost200Applicants() async throws {
        var (node, queries, org, chain) = try await Self.organizationNode(events: 0)
        for applicant in 0..<205 {
            #expect(try await node.importBlock(chain.apply(chain.transaction(OrganizationRules.join, OrganizationRules.organizationBody(org), [testKey(1_000 + applicant)]))))
        }
        let view = try await queries.organization(org.text[...])
        let members = view["members"] as? [[String: Any]] ?? []
        #expect(view["applicant_count"] as? Int == 205)
        #expect(members.count == 5 + LedgerQueries.applicantsShown, "\(members.count)")
        #expect(members.filter { $0["role"] as? String == "applicant" }.count == LedgerQueries.applicantsShown)
    }

    /// The node's credit lines follow each block's changes, without a scan of the state: a line granted,
    /// changed and revoked after the first read is there, changed and gone.
    @Test func creditLinesFollowEachBlock() async throws {
        var (node, _, _, chain) = try await Self.organizationNode(events: 0)
        #expect(await node.creditLines().isEmpty)
        let grantee = testKey(2).publicKey.id
        #expect(try await node.importBlock(chain.apply(chain.transaction(CreditRules.grant, CreditRules.lineBody(to: grantee, limit: 1_000, expiry: .max), [testKey(1)]))))
        #expect(await node.creditLines().map { $0.terms(grantedBy: testKey(1).publicKey.id).base } == [1_000])
        #expect(try await node.importBlock(chain.apply(chain.transaction(CreditRules.change, CreditRules.lineBody(to: grantee, limit: 5_000, expiry: .max), [testKey(1)]))))
        #expect(await node.creditLines().map { $0.terms(grantedBy: testKey(1).publicKey.id).base } == [5_000])
        #expect(try await node.importBlock(chain.apply(chain.transaction(CreditRules.revoke, CreditRules.revokeBody(to: grantee), [testKey(1)]))))
        let scanned = await node.state.values.values.filter { stateRecordKind($0) == CreditLine.kind }.compactMap { try? CreditLine(cbor: $0) }
        #expect(await node.creditLines().map(\.stateKey) == scanned.map(\.stateKey))
    }

    @Test func theCacheHoldsOneHeightAndAtMostItsCapacity() async throws {
        let cache = QueryCache(capacity: 3)
        for key in 0..<10 { _ = await cache.value("k\(key)", height: 1) { key } }
        #expect(cache.count == 3)
        #expect(await cache.value("k9", height: 1) { -1 } == 9)  // kept
        #expect(await cache.value("k0", height: 1) { -1 } == -1)  // dropped, computed again
        #expect(await cache.value("k9", height: 2) { -2 } == -2)  // a new height empties it
        #expect(cache.count == 1)
        #expect(await cache.value("k9", height: 1) { -3 } == -3)  // an older height is computed, not filed
        #expect(await cache.value("k9", height: 2) { -4 } == -2)
    }
}
