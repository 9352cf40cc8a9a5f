import Credit
import Ledger
import LedgerTestSupport
import Testing

/// Funded keys 1…n, and shorthands for the credit operations the tests use.
struct CreditWorld {
    var chain: TestChain
    let keys: [SecretKey]

    init(accounts: Int = 5, balance: UInt64 = 1 << 30, publicityWindow: UInt64 = 100) {
        keys = (1...accounts).map(testKey)
        chain = TestChain(balances: keys.map { ($0, balance) }, publicityWindow: publicityWindow)
    }

    subscript(_ index: Int) -> SecretKey { keys[index] }
    func id(_ index: Int) -> ID { keys[index].publicKey.id }

    mutating func grant(_ grantor: Int, to grantee: Int, limit: UInt64, expiry: UInt64 = 1 << 40, ripple: Bool = false,
                        schedule: (increment: UInt64, period: UInt64, cap: UInt64)? = nil) throws(Rejection) {
        var terms = LineRules.Terms(to: id(grantee), limit: limit, expiry: expiry, allowRipple: ripple)
        if let schedule { (terms.increment, terms.period, terms.cap) = schedule }
        try chain.submit(LineRules.grant, terms.body, [keys[grantor]])
    }

    mutating func change(_ grantor: Int, to grantee: Int, limit: UInt64, expiry: UInt64 = 1 << 40, ripple: Bool = false) throws(Rejection) {
        try chain.submit(LineRules.change, LineRules.Terms(to: id(grantee), limit: limit, expiry: expiry, allowRipple: ripple).body, [keys[grantor]])
    }

    mutating func revoke(_ grantor: Int, from grantee: Int) throws(Rejection) {
        try chain.submit(LineRules.revoke, LineRules.revokeBody(to: id(grantee)), [keys[grantor]])
    }

    func line(_ a: Int, _ b: Int) -> CreditLine? { chain.record(CreditLine.self, at: CreditLine.stateKey(id(a), id(b))) }

    /// What `debtor` owes `creditor` on their line.
    func debt(_ debtor: Int, to creditor: Int) -> UInt64 { line(debtor, creditor)?.debt(of: id(debtor)) ?? 0 }

    func balance(_ index: Int) -> UInt64 { chain.balance(keys[index]) }

    func receipt(provider: Int, consumer: Int, service: Service = .bandwidth, contract: ID? = nil, sequence: UInt64, units: UInt64) -> SignedReceipt {
        SignedReceipt(receipt: UsageReceipt(chain: TestChain.chainID, provider: id(provider), consumer: id(consumer), service: service,
                                            contract: contract, sequence: sequence, units: units), key: keys[consumer])
    }

    func acknowledgement(provider: Int, consumer: Int, sequence: UInt64, units: UInt64) -> ReceiptAcknowledgement {
        ReceiptAcknowledgement(receipt: UsageReceipt(chain: TestChain.chainID, provider: id(provider), consumer: id(consumer), service: .bandwidth,
                                                     sequence: sequence, units: units), providerKey: keys[provider])
    }

    func stream(provider: Int, consumer: Int) -> ID { receipt(provider: provider, consumer: consumer, sequence: 0, units: 0).receipt.streamKey }

    /// Receivables minus payables over every line: what netting and rippling must never change.
    func netPosition(_ account: ID) -> Int128 {
        chain.records(CreditLine.self).reduce(Int128(0)) { total, line in
            guard line.low == account || line.high == account else { return total }
            return total + Int128(line.debt(of: line.other(account))) - Int128(line.debt(of: account))
        }
    }

    /// Balances plus everything held by records (settlement deposits, contract escrows and deposits).
    var totalHoldings: UInt64 {
        let balances = chain.records(Account.self).reduce(UInt64(0)) { $0 + $1.balance }
        let deposits = chain.records(Settlement.self).reduce(UInt64(0)) { $0 + $1.deposit + $1.held }
        let storage = chain.records(StorageContract.self).reduce(UInt64(0)) { $0 + $1.escrow + $1.deposit }
        return balances + deposits + storage
    }
}

/// Expects a rejection with a given code.
func expectRejection(_ code: Rejection.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a rejection with code \(code.rawValue)", sourceLocation: sourceLocation)
    } catch let rejection as Rejection {
        #expect(rejection.code == code, "got \(rejection)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a rejection, got \(error)", sourceLocation: sourceLocation)
    }
}
