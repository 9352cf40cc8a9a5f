import Credit
import LedgerTestSupport
import Testing
@testable import Ledger

@Suite struct TransferTests {
    let alice = testKey(1), bob = testKey(2), carol = testKey(3)

    @Test func transferMovesFundsWithBothSignatures() throws {
        var chain = TestChain()
        try chain.submit(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 400), [alice, bob])
        #expect(chain.balance(alice) == 999_600)
        #expect(chain.balance(bob) == 1_400)
    }

    @Test func theRecipientMustSign() {
        var chain = TestChain()
        #expect(throws: Rejection(.wrongSigners, "'transfer' takes 2…2 signers, got 1")) {
            try chain.submit(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice])
        }
        #expect(throws: Rejection.self) {
            try chain.submit(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice, carol])
        }
    }

    @Test func unsafeTransfersAreRejectedAndChangeNothing() {
        var chain = TestChain()
        let root = chain.state.rootHash
        let cases: [(CBOR, Rejection.Code)] = [
            (TransferRule.body(to: bob.publicKey.id, amount: 0), .amountNotPositive),
            (TransferRule.body(to: bob.publicKey.id, amount: 1_000_001), .insufficientBalance),
            (.map(["to": .id(bob.publicKey.id), "amount": .negative(5)]), .malformed),
            (.map(["to": .id(bob.publicKey.id)]), .malformed),
        ]
        for (body, code) in cases {
            do {
                try chain.submit(TransferRule.type, body, [alice, bob])
                Issue.record("accepted a transfer that must fail with \(code)")
            } catch { #expect(error.code == code) }
        }
        #expect(chain.state.rootHash == root)
    }

    /// Supply is capped at 2^64-1 by the genesis check, so no balance can overflow; extreme amounts move exactly.
    @Test func extremeAmountsNeitherOverflowNorWrap() throws {
        let tooMuch = Genesis.development(chainID: "x", timeMillis: 0, bookkeeper: testKey(0).publicKey,
                                          balances: [(testKey(1).publicKey.id, UInt64.max), (testKey(2).publicKey.id, 1)])
        #expect(throws: Genesis.Invalid.self) { try tooMuch.build() }
        var chain = TestChain(balances: [(testKey(1), UInt64.max - 100), (testKey(2), 100)])
        try chain.submit(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: UInt64.max - 100), [testKey(1), testKey(2)])
        #expect(chain.balance(testKey(2)) == UInt64.max)
        #expect(chain.balance(testKey(1)) == 0)
        #expect(throws: Rejection.self) {
            try chain.submit(TransferRule.type, TransferRule.body(to: testKey(2).publicKey.id, amount: 1), [testKey(1), testKey(2)])
        }
    }

    @Test func replayWrongChainExpiryAndBadSignatureAreRejected() throws {
        var chain = TestChain()
        let first = chain.transaction(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice, bob])
        try chain.apply(first)
        #expect(throws: Rejection.self) { try chain.apply(first) }  // replayed nonce

        var wrongChain = chain.transaction(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice, bob])
        wrongChain.transaction.chain = "other"
        #expect(throws: Rejection.self) { try chain.apply(SignedTransaction(transaction: wrongChain.transaction, keys: [alice, bob])) }

        let expired = chain.transaction(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice, bob], expiry: 0)
        #expect(throws: Rejection.self) { try chain.apply(expired) }

        var forged = chain.transaction(TransferRule.type, TransferRule.body(to: bob.publicKey.id, amount: 1), [alice, bob])
        forged.signatures[1] = carol.sign(forged.transaction.signingDigest)
        do { try chain.apply(forged); Issue.record("forged signature accepted") } catch { #expect(error.code == .badSignature) }
    }

    /// GongShi's conservation rule: without rewards, no transaction changes the total of balances.
    @Test func randomTransfersConserveTheTotal() throws {
        let keys = (1...6).map(testKey)
        var chain = TestChain(balances: keys.map { ($0, 10_000) })
        var generator = SeededGenerator(seed: 77)
        var accepted = 0
        for _ in 0..<150 {
            let from = keys.randomElement(using: &generator)!, to = keys.randomElement(using: &generator)!
            let amount = UInt64.random(in: 0...4_000, using: &generator)
            if (try? chain.submit(TransferRule.type, TransferRule.body(to: to.publicKey.id, amount: amount), [from, to])) != nil { accepted += 1 }
            #expect(keys.map(chain.balance).reduce(0, +) == 60_000)
        }
        #expect(accepted > 50)
    }
}

@Suite struct OrganizationTests {
    let founder = testKey(1), applicant = testKey(2), outsider = testKey(3), orgKey = testKey(50)

    func created() throws -> TestChain {
        var chain = TestChain()
        try chain.submit(OrganizationRules.create, OrganizationRules.createBody(name: "Open Video", description: "d"), [founder, orgKey])
        return chain
    }

    var org: ID { orgKey.publicKey.id }

    func role(_ chain: TestChain, _ key: SecretKey) -> Role? {
        chain.state.record(Membership.self, at: Membership.stateKey(organization: org, person: key.publicKey.id))?.role
    }

    @Test func createMakesTheFounderSupervisor() throws {
        let chain = try created()
        let profile = chain.state.record(Organization.self, at: Organization.stateKey(org))!
        #expect(profile.name == "Open Video" && profile.founder == founder.publicKey.id && profile.supervisorCount == 1)
        #expect(role(chain, founder) == .supervisor)
    }

    @Test func createNeedsTheOrganizationKeyAndIsUnique() throws {
        var chain = try created()
        #expect(throws: Rejection.self) {
            try chain.submit(OrganizationRules.create, OrganizationRules.createBody(name: "x", description: ""), [founder])
        }
        do {
            try chain.submit(OrganizationRules.create, OrganizationRules.createBody(name: "again", description: ""), [outsider, orgKey])
            Issue.record("duplicate organization accepted")
        } catch { #expect(error.code == .organizationExists) }
    }

    @Test func joinApproveRoleLeaveLifecycle() throws {
        var chain = try created()
        try chain.submit(OrganizationRules.join, OrganizationRules.joinBody(organization: org, role: .guest), [applicant])
        #expect(role(chain, applicant) == .applicant)
        // Only a supervisor approves.
        do {
            try chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: applicant.publicKey.id), [outsider])
            Issue.record("outsider approved")
        } catch { #expect(error.code == .notSupervisor) }
        try chain.submit(OrganizationRules.approve, OrganizationRules.memberBody(organization: org, person: applicant.publicKey.id, role: .guest), [founder])
        #expect(role(chain, applicant) == .guest)
        try chain.submit(OrganizationRules.role, OrganizationRules.memberBody(organization: org, person: applicant.publicKey.id, role: .supervisor), [founder])
        #expect(chain.state.record(Organization.self, at: Organization.stateKey(org))!.supervisorCount == 2)
        // Now the founder may step down and leave; the last supervisor may not.
        try chain.submit(OrganizationRules.leave, OrganizationRules.organizationBody(org), [founder])
        #expect(role(chain, founder) == nil)
        do {
            try chain.submit(OrganizationRules.leave, OrganizationRules.organizationBody(org), [applicant])
            Issue.record("last supervisor left")
        } catch { #expect(error.code == .lastSupervisor) }
    }

    @Test func rejectRemovesAnApplication() throws {
        var chain = try created()
        try chain.submit(OrganizationRules.join, OrganizationRules.organizationBody(org), [applicant])
        try chain.submit(OrganizationRules.reject, OrganizationRules.memberBody(organization: org, person: applicant.publicKey.id), [founder])
        #expect(role(chain, applicant) == nil)
        do {
            try chain.submit(OrganizationRules.reject, OrganizationRules.memberBody(organization: org, person: applicant.publicKey.id), [founder])
            Issue.record("rejected a missing application")
        } catch { #expect(error.code == .notApplicant) }
    }

    @Test func unknownOrganizationAndDoubleJoin() throws {
        var chain = try created()
        do {
            try chain.submit(OrganizationRules.join, OrganizationRules.organizationBody(outsider.publicKey.id), [applicant])
            Issue.record("joined a missing organization")
        } catch { #expect(error.code == .unknownOrganization) }
        do {
            try chain.submit(OrganizationRules.join, OrganizationRules.organizationBody(org), [founder])
            Issue.record("founder joined twice")
        } catch { #expect(error.code == .alreadyMember) }
    }

    @Test func lastSupervisorCannotBeDemoted() throws {
        var chain = try created()
        do {
            try chain.submit(OrganizationRules.role, OrganizationRules.memberBody(organization: org, person: founder.publicKey.id, role: .member), [founder])
            Issue.record("demoted the last supervisor")
        } catch { #expect(error.code == .lastSupervisor) }
    }
}

@Suite struct CreditLineTests {
    let grantor = testKey(1), grantee = testKey(2)

    /// The terms the grantor extends, if the line exists.
    func line(_ chain: TestChain) -> CreditTerms? {
        chain.state.record(CreditLine.self, at: CreditLine.stateKey(grantor.publicKey.id, grantee.publicKey.id))?.terms(grantedBy: grantor.publicKey.id)
    }

    @Test func grantChangeRevoke() throws {
        var chain = TestChain()
        try chain.submit(CreditRules.grant, CreditRules.lineBody(to: grantee.publicKey.id, limit: 10 << 30, expiry: 5_000), [grantor])
        #expect(line(chain)?.base == 10 << 30)
        do {
            try chain.submit(CreditRules.grant, CreditRules.lineBody(to: grantee.publicKey.id, limit: 1, expiry: 5_000), [grantor])
            Issue.record("granted twice")
        } catch { #expect(error.code == CreditRules.exists) }
        try chain.submit(CreditRules.change, CreditRules.lineBody(to: grantee.publicKey.id, limit: 1 << 20, expiry: 9_000), [grantor])
        #expect(line(chain)?.base == 1 << 20 && line(chain)?.expiry == 9_000)
        try chain.submit(CreditRules.revoke, CreditRules.revokeBody(to: grantee.publicKey.id), [grantor])
        #expect(line(chain) == nil)
        do {
            try chain.submit(CreditRules.revoke, CreditRules.revokeBody(to: grantee.publicKey.id), [grantor])
            Issue.record("revoked twice")
        } catch { #expect(error.code == CreditRules.notFound) }
    }

    @Test func badTermsAreRejected() {
        var chain = TestChain()
        let cases: [(CBOR, Rejection.Code)] = [
            (CreditRules.lineBody(to: grantee.publicKey.id, limit: 0, expiry: 5_000), .amountNotPositive),
            (CreditRules.lineBody(to: grantee.publicKey.id, limit: 5, expiry: 0), .expired),
            (CreditRules.lineBody(to: grantor.publicKey.id, limit: 5, expiry: 5_000), .selfReference),
        ]
        for (body, code) in cases {
            do { try chain.submit(CreditRules.grant, body, [grantor]); Issue.record("accepted bad terms") } catch { #expect(error.code == code) }
        }
        // Only the authorizer can change its own line: a grantee's change finds no line of its own.
        do {
            try chain.submit(CreditRules.change, CreditRules.lineBody(to: grantor.publicKey.id, limit: 5, expiry: 5_000), [grantee])
            Issue.record("changed a line it does not own")
        } catch { #expect(error.code == CreditRules.notFound) }
    }
}
