import Ledger

/// A snapshot of the credit lines at one pulse, as a directed graph for finding payment paths.
/// Pure: built from line records, queried in memory.
public struct CreditGraph: Sendable {
    public struct Edge: Sendable {
        public let to: Int
        /// How much can move along this edge now (`CreditLine.capacity`).
        public let capacity: UInt64
        /// Whether the edge's source lets payments ripple through it on this line.
        public let sourceRipples: Bool
        /// Whether the edge's target lets payments ripple through it on this line.
        public let targetRipples: Bool
    }

    public private(set) var ids: [ID] = []
    private var index: [ID: Int] = [:]
    public private(set) var edges: [[Edge]] = []

    public static let hopsMax = 8

    public init(lines: [CreditLine], pulse: UInt64) {
        for line in lines {
            let low = node(line.low), high = node(line.high)
            let lowRipples = line.lowTerms.allowRipple, highRipples = line.highTerms.allowRipple
            edges[low].append(Edge(to: high, capacity: line.capacity(from: line.low, atPulse: pulse), sourceRipples: lowRipples, targetRipples: highRipples))
            edges[high].append(Edge(to: low, capacity: line.capacity(from: line.high, atPulse: pulse), sourceRipples: highRipples, targetRipples: lowRipples))
        }
    }

    private mutating func node(_ id: ID) -> Int {
        if let existing = index[id] { return existing }
        index[id] = ids.count
        ids.append(id)
        edges.append([])
        return ids.count - 1
    }

    public var nodeCount: Int { ids.count }
    public var lineCount: Int { edges.reduce(0) { $0 + $1.count } / 2 }

    /// The shortest path (fewest hops) from `payer` to `payee` on which every line can carry `amount`
    /// and every intermediary allows rippling on both lines it joins. Nil when there is none.
    /// The result lists every node, payer first and payee last.
    public func path(from payer: ID, to payee: ID, amount: UInt64, hopsMax: Int = CreditGraph.hopsMax) -> [ID]? {
        guard let start = index[payer], let goal = index[payee], start != goal else { return nil }
        var previous = [Int](repeating: -1, count: ids.count)
        var depth = [Int](repeating: -1, count: ids.count)
        depth[start] = 0
        var frontier = [start]
        while !frontier.isEmpty {
            var next: [Int] = []
            for node in frontier where depth[node] < hopsMax {
                for edge in edges[node] where edge.capacity >= amount && depth[edge.to] < 0 {
                    // Leaving an intermediary needs its consent on the outgoing line; entering one that
                    // is not the payee needs its consent on the incoming line.
                    if node != start && !edge.sourceRipples { continue }
                    if edge.to != goal && !edge.targetRipples { continue }
                    depth[edge.to] = depth[node] + 1
                    previous[edge.to] = node
                    if edge.to == goal {
                        var path = [goal]
                        while let last = path.last, previous[last] >= 0 { path.append(previous[last]) }
                        return path.reversed().map { ids[$0] }
                    }
                    next.append(edge.to)
                }
            }
            frontier = next
        }
        return nil
    }
}
