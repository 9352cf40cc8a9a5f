import Ledger

/// Clearing debt cycles: where A owes B, B owes C and C owes A, every debt on the cycle can drop by the
/// smallest of them and nobody's net position changes. Pure: `findCycles` proposes, the `credit.net`
/// rule checks and applies.
public enum Netting {
    public static let type = "credit.net"
    public static let cyclesMax = 256
    /// A cycle of 512 nodes encodes in about 11 KiB, so it fits in one transaction (16 KiB).
    public static let cycleLengthMax = 512
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

    /// Finds short debt cycles and cancels each by its smallest debt, until no cycle of at most
    /// `lengthMax` nodes is left (each cancellation zeroes at least one debt, so this ends).
    ///
    /// For each node s in turn, a bidirectional breadth-first search — forward along what is owed,
    /// backward along what is owed to — finds the shortest cycle through s; it is cancelled and the
    /// search repeats until s is on no short cycle. Short cycles keep netting transactions small and
    /// clear the most debt per entry. (A depth-first search finds cycles faster but long ones — about
    /// 190 nodes each at 100,000 random debts — and a one-way breadth-first search took 40 s there.)
    public static func findCycles(_ debts: [Debt], lengthMax: Int = cycleLengthMax, cyclesMax: Int = .max) -> [Cycle] {
        var graph = DebtGraph(debts)
        var cycles: [Cycle] = []
        for start in 0..<graph.nodeCount {
            while cycles.count < cyclesMax, let edges = graph.shortestCycle(through: start, lengthMax: lengthMax) {
                let smallest = edges.map { graph.amount[$0] }.min()!
                for edge in edges { graph.amount[edge] -= smallest }
                cycles.append(Cycle(nodes: edges.map { graph.ids[graph.from[$0]] }, amount: smallest))
            }
        }
        return cycles
    }

    /// Groups cycles into `credit.net` bodies that each fit in a transaction.
    public static func batches(_ cycles: [Cycle], bodyBytesMax: Int = 14 * 1024) -> [[Cycle]] {
        var batches: [[Cycle]] = [], current: [Cycle] = [], bytes = 0
        for cycle in cycles {
            let size = cycle.nodes.count * 22 + 16
            if !current.isEmpty && (bytes + size > bodyBytesMax || current.count == cyclesMax) {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(cycle)
            bytes += size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
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

/// Debts as a directed graph with both adjacency directions, for `Netting.findCycles`.
struct DebtGraph {
    var ids: [ID] = []
    var from: [Int] = [], to: [Int] = [], amount: [UInt64] = []
    var outgoing: [[Int]] = [], incoming: [[Int]] = []
    // Per-search marks, stamped with the search number instead of cleared.
    private var forwardSeen: [Int] = [], backwardSeen: [Int] = [], forwardEdge: [Int] = [], backwardEdge: [Int] = []
    private var search = 0

    var nodeCount: Int { ids.count }

    init(_ debts: [Netting.Debt]) {
        var index: [ID: Int] = [:]
        func node(_ id: ID) -> Int {
            if let existing = index[id] { return existing }
            index[id] = ids.count
            ids.append(id)
            return ids.count - 1
        }
        for debt in debts where debt.amount > 0 && debt.debtor != debt.creditor {
            from.append(node(debt.debtor))
            to.append(node(debt.creditor))
            amount.append(debt.amount)
        }
        outgoing = Array(repeating: [], count: ids.count)
        incoming = Array(repeating: [], count: ids.count)
        for edge in from.indices {
            outgoing[from[edge]].append(edge)
            incoming[to[edge]].append(edge)
        }
        forwardSeen = Array(repeating: -1, count: ids.count)
        backwardSeen = Array(repeating: -1, count: ids.count)
        forwardEdge = Array(repeating: -1, count: ids.count)
        backwardEdge = Array(repeating: -1, count: ids.count)
    }

    /// The edges of a shortest cycle through `start` on debts still owed (in order, starting at
    /// `start`), or nil if there is none of at most `lengthMax` edges.
    mutating func shortestCycle(through start: Int, lengthMax: Int) -> [Int]? {
        search += 1
        forwardSeen[start] = search
        backwardSeen[start] = search
        var forward = [start], backward = [start]
        var forwardDepth = 0, backwardDepth = 0
        while !forward.isEmpty && !backward.isEmpty && forwardDepth + backwardDepth < lengthMax {
            if forward.count <= backward.count {
                var next: [Int] = []
                for node in forward {
                    for edge in outgoing[node] where amount[edge] > 0 {
                        let target = to[edge]
                        if target == start { return forwardPath(to: node, start: start) + [edge] }
                        if backwardSeen[target] == search { return forwardPath(to: node, start: start) + [edge] + backwardPath(from: target, start: start) }
                        if forwardSeen[target] == search { continue }
                        forwardSeen[target] = search
                        forwardEdge[target] = edge
                        next.append(target)
                    }
                }
                forward = next
                forwardDepth += 1
            } else {
                var next: [Int] = []
                for node in backward {
                    for edge in incoming[node] where amount[edge] > 0 {
                        let source = from[edge]
                        if source == start { return [edge] + backwardPath(from: node, start: start) }
                        if forwardSeen[source] == search { return forwardPath(to: source, start: start) + [edge] + backwardPath(from: node, start: start) }
                        if backwardSeen[source] == search { continue }
                        backwardSeen[source] = search
                        backwardEdge[source] = edge
                        next.append(source)
                    }
                }
                backward = next
                backwardDepth += 1
            }
        }
        return nil
    }

    /// Edges from `start` to `node` along the forward marks. A node that both searches have marked
    /// ends the search at once, so the two paths share no node but `start`: the cycle is simple.
    private func forwardPath(to node: Int, start: Int) -> [Int] {
        var edges: [Int] = [], walker = node
        while walker != start {
            edges.append(forwardEdge[walker])
            walker = from[forwardEdge[walker]]
        }
        return edges.reversed()
    }

    /// Edges from `node` back to `start` along the backward marks.
    private func backwardPath(from node: Int, start: Int) -> [Int] {
        var edges: [Int] = [], walker = node
        while walker != start {
            edges.append(backwardEdge[walker])
            walker = to[backwardEdge[walker]]
        }
        return edges
    }
}
