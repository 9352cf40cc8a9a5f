import Ledger
import Testing

// Also in CreditTests/Helpers.swift: LedgerTestSupport cannot hold it, because ledger-bench links that
// target and must not link the Testing library.
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
