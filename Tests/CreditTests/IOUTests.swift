import Credit
import Ledger
import LedgerTestSupport
import Testing

@Suite struct IOUTests {
    func issue(_ world: inout CreditWorld, borrower: Int, lender: Int, amount: UInt64) throws(Rejection) -> ID {
        let nonce = world.chain.nonces[world.id(borrower), default: 0]
        try world.chain.submit(IOURules.issue, IOURules.issueBody(lender: world.id(lender), amount: amount, memo: "content fee"), [world[borrower]])
        return IOU.stateKey(borrower: world.id(borrower), nonce: nonce)
    }

    @Test func issueRepayAndRemove() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        expectRejection(IOURules.beyondLine) { _ = try issue(&world, borrower: 1, lender: 0, amount: 1001) }
        let id = try issue(&world, borrower: 1, lender: 0, amount: 700)
        #expect(world.chain.record(IOU.self, at: id)?.outstanding == 700)
        #expect(world.debt(1, to: 0) == 700 && world.line(0, 1)?.itemized(of: world.id(1)) == 700)
        let before = (world.balance(0), world.balance(1))
        try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: id, amount: 200), [world[1]])
        #expect(world.balance(0) == before.0 + 200 && world.balance(1) == before.1 - 200)
        #expect(world.debt(1, to: 0) == 500 && world.chain.record(IOU.self, at: id)?.outstanding == 500)
        expectRejection(.amountNotPositive) { try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: id, amount: 501), [world[1]]) }
        expectRejection(.wrongSigners) { try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: id, amount: 1), [world[0]]) }
        try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: id, amount: 500), [world[1]])
        #expect(world.chain.record(IOU.self, at: id) == nil && world.debt(1, to: 0) == 0)
    }

    @Test func passedOnToAnAgentNodeThatTrustsTheBorrower() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        let id = try issue(&world, borrower: 1, lender: 0, amount: 400)
        // Node 2 does not trust the borrower yet: it cannot take the IOU.
        expectRejection(IOURules.beyondLine) {
            try world.chain.submit(IOURules.transfer, IOURules.transferBody(iou: id, to: world.id(2)), [world[0], world[2]])
        }
        try world.grant(2, to: 1, limit: 500)
        try world.chain.submit(IOURules.transfer, IOURules.transferBody(iou: id, to: world.id(2)), [world[0], world[2]])
        #expect(world.chain.record(IOU.self, at: id)?.holder == world.id(2))
        #expect(world.debt(1, to: 0) == 0 && world.debt(1, to: 2) == 400)
        // Repayment now goes to the new holder.
        let before = world.balance(2)
        try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: id, amount: 400), [world[1]])
        #expect(world.balance(2) == before + 400)
    }

    @Test func onlyTheHolderPassesItOn() throws {
        var world = CreditWorld()
        try world.grant(0, to: 1, limit: 1000)
        try world.grant(2, to: 1, limit: 1000)
        let id = try issue(&world, borrower: 1, lender: 0, amount: 10)
        expectRejection(.wrongSigners) {
            try world.chain.submit(IOURules.transfer, IOURules.transferBody(iou: id, to: world.id(2)), [world[3], world[2]])
        }
        expectRejection(IOURules.unknown) {
            try world.chain.submit(IOURules.repay, IOURules.repayBody(iou: world.id(4), amount: 1), [world[1]])
        }
    }
}
