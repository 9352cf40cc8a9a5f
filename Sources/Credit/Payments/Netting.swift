import Ledger

/// Clearing debt cycles: where A owes B, B owes C and C owes A, every debt on the cycle can drop by the
/// smallest of them and nobody's net position changes. Pure: `findCycles` proposes, the `credit.net`
/// rule checks and applies.
public enum Netting {
    public static let type = "credit.net"
    public static let cyclesMax = 256
    public static let cycleLengthMax = 16
    public static let notACycle: Rejection.Code = "not_a_cycle"

    public struct Debt: Sendable, Equatable {
        public let debtor: ID
        public let creditor: ID
        public var amount: UInt64

        public init(debtor: ID, creditor: ID, amount: UInt64) {
            self.debtor = debtor
            self.creditor = creditor
            self.amount = amount
        }
    }

    public struct Cycle: Sendable, Equatable {
        /// Each node owes the next; the last owes the first.
        public let nodes: [ID]
        public let amount: UInt64

        public init(nodes: [ID], amount: UInt64) {
            self.nodes = nodes
            self.amount = amount
        }

        /// Debt removed: the amount on every edge of the cycle (nil if it would not fit in 64 bits,
        /// which only a hostile body can claim).
        public var relieved: UInt64? {
            let (product, overflow) = amount.multipliedReportingOverflow(by: UInt64(nodes.count))
            return overflow ? nil : product
        }

        var cbor: CBOR { .map(["nodes": .array(nodes.map { .id($0) }), "amount": .unsigned(amount)]) }
    }

    /// The free debts (not itemized as IOUs) of every line.
    public static func debts(of lines: [CreditLine]) -> [Debt] {
        var out: [Debt] = []
        for line in lines {
            if line.freeDebt(of: line.high) > 0 { out.append(Debt(debtor: line.high, creditor: line.low, amount: line.freeDebt(of: line.high))) }
            if line.freeDebt(of: line.low) > 0 { out.append(Debt(debtor: line.low, creditor: line.high, amount: line.freeDebt(of: line.low))) }
        }
        return out
    }

    /// Finds cycles and cancels them until the debt graph has none left (each cancellation zeroes at
    /// least one debt, so this ends). Depth-first search with an explicit stack; cycles longer than
    /// `lengthMax` are left alone so that each can be checked in one transaction.
    public static func findCycles(_ debts: [Debt], lengthMax: Int = cycleLengthMax, cyclesMax: Int = .max) -> [Cycle] {
        var index: [ID: Int] = [:]
        var ids: [ID] = []
        func node(_ id: ID) -> Int {
            if let existing = index[id] { return existing }
            index[id] = ids.count
            ids.append(id)
            return ids.count - 1
        }
        var to: [Int] = [], amount: [UInt64] = [], outgoing: [[Int]] = []
        for debt in debts where debt.amount > 0 && debt.debtor != debt.creditor {
            let a = node(debt.debtor), b = node(debt.creditor)
            while outgoing.count < ids.count { outgoing.append([]) }
            outgoing[a].append(to.count)
            to.append(b)
            amount.append(debt.amount)
        }
        while outgoing.count < ids.count { outgoing.append([]) }
        var cycles: [Cycle] = []
        var done = [Bool](repeating: false, count: ids.count)
        var onStack = [Int](repeating: -1, count: ids.count)  // position on the stack, or -1
        var cursor = [Int](repeating: 0, count: ids.count)
        for start in 0..<ids.count where !done[start] {
            var stack = [start]
            var via: [Int] = []  // edge taken into stack[i + 1]
            onStack[start] = 0
            while let top = stack.last, cycles.count < cyclesMax {
                if cursor[top] == outgoing[top].count {
                    done[top] = true
                    onStack[top] = -1
                    stack.removeLast()
                    if !via.isEmpty { via.removeLast() }
                    continue
                }
                let edge = outgoing[top][cursor[top]]
                let next = to[edge]
                if amount[edge] == 0 || done[next] {
                    cursor[top] += 1
                    continue
                }
                if onStack[next] >= 0 {
                    let position = onStack[next]
                    let edges = Array(via[position...]) + [edge]
                    if edges.count <= lengthMax {
                        let smallest = edges.map { amount[$0] }.min()!
                        for e in edges { amount[e] -= smallest }
                        cycles.append(Cycle(nodes: stack[position...].map { ids[$0] }, amount: smallest))
                        // Unwind to where the cycle began; the zeroed edge will be skipped from there.
                        while stack.count > position + 1 {
                            onStack[stack.removeLast()] = -1
                            via.removeLast()
                        }
                    } else {
                        cursor[top] += 1
                    }
                    continue
                }
                onStack[next] = stack.count
                stack.append(next)
                via.append(edge)
            }
        }
        return cycles
    }

    public static func body(_ cycles: [Cycle]) -> CBOR {
        .map(["cycles": .array(cycles.map(\.cbor)), "relieved": .unsigned(cycles.reduce(0) { $0 &+ ($1.relieved ?? 0) })])
    }

    /// `credit.net`: anyone may clear cycles (a bookkeeper does once per election cycle). The body names
    /// each cycle and the total debt relieved, which the rule recomputes, so the transaction itself
    /// records what was cleared.
    public static let rule = TransactionRule(type: type, signerCount: 1...1) { tx, draft, context throws(Rejection) in
        let (cycles, relieved) = try tx.decodeBody { fields throws(DecodeError) in
            var cycles: [Cycle] = []
            for item in try fields.array("cycles", countMax: cyclesMax) {
                var cycleFields = try CBORFields(item, schema: "cycle")
                var nodes: [ID] = []
                for nodeItem in try cycleFields.array("nodes", countMax: cycleLengthMax) {
                    guard case .bytes(let raw) = nodeItem, let id = ID(bytes: raw) else { throw .schema("cycle: nodes are 20-byte IDs") }
                    nodes.append(id)
                }
                cycles.append(Cycle(nodes: nodes, amount: try cycleFields.unsigned("amount")))
                try cycleFields.finish()
            }
            return (cycles, try fields.unsigned("relieved"))
        }
        guard !cycles.isEmpty else { throw Rejection(notACycle, "no cycles to clear") }
        var total: UInt64 = 0
        for cycle in cycles {
            guard cycle.nodes.count >= 2, Set(cycle.nodes).count == cycle.nodes.count, cycle.amount > 0 else {
                throw Rejection(notACycle, "a cycle needs at least two distinct nodes and a positive amount")
            }
            for (debtor, creditor) in zip(cycle.nodes, cycle.nodes.dropFirst() + [cycle.nodes[0]]) {
                guard var line = try draft.record(CreditLine.self, at: CreditLine.stateKey(debtor, creditor)),
                    line.freeDebt(of: debtor) >= cycle.amount
                else { throw Rejection(notACycle, "\(debtor) does not owe \(creditor) at least \(cycle.amount) in free debt") }
                line.addDebt(of: debtor, -Int128(cycle.amount))
                line.changedHeight = context.height
                draft.putLine(line)
            }
            guard let relieved = cycle.relieved else { throw Rejection(.overflow, "a cycle's relieved debt exceeds 2^64-1") }
            total = try total.adding(relieved, what: "debt relieved")
        }
        guard total == relieved else { throw Rejection(.malformed, "the body says \(relieved) relieved; the cycles relieve \(total)") }
    }
}
