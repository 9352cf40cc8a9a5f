import Foundation

/// Draws an account's credit neighbourhood as SVG on the server: the account in the middle, its
/// neighbours on a circle around it, the rest on an outer circle; an arrow per letter of credit.
/// Only IDs and numbers reach the drawing, and IDs are Bech32 text, so nothing needs escaping.
enum CreditGraphSVG {
    static let size = 640.0

    static func draw(center: String, nodes: [String], edges: [[String: Any]]) -> String {
        let middle = size / 2
        var neighbours = Set<String>()
        for edge in edges {
            if edge["from"] as? String == center, let to = edge["to"] as? String { neighbours.insert(to) }
            if edge["to"] as? String == center, let from = edge["from"] as? String { neighbours.insert(from) }
        }
        let inner = nodes.filter { neighbours.contains($0) }.sorted(), outer = nodes.filter { $0 != center && !neighbours.contains($0) }.sorted()
        var position: [String: (Double, Double)] = [center: (middle, middle)]
        for (ring, radius, turn) in [(inner, 170.0, 0.0), (outer, 280.0, 0.5)] {
            for (index, node) in ring.enumerated() {
                // The outer ring is turned half a step (and a little more) so its nodes sit between the inner ones.
                let angle = 2 * Double.pi * (Double(index) + turn) / Double(max(ring.count, 1)) - Double.pi / 2 + turn * 0.6
                position[node] = (middle + radius * cos(angle), middle + radius * sin(angle))
            }
        }
        var svg = """
            <svg id="credit-graph" xmlns="http://www.w3.org/2000/svg" width="\(Int(size))" height="\(Int(size))" viewBox="0 0 \(Int(size)) \(Int(size))" role="img" aria-label="credit graph">
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6b82"/></marker></defs>
            <rect width="100%" height="100%" fill="#fff" stroke="#dde1e7"/>

            """
        for edge in edges {
            guard let from = edge["from"] as? String, let to = edge["to"] as? String, let a = position[from], let b = position[to] else { continue }
            // Stop short of the target's circle, and offset the two directions of a pair.
            let dx = b.0 - a.0, dy = b.1 - a.1, length = max(hypot(dx, dy), 1)
            let (nx, ny) = (-dy / length * 4, dx / length * 4)
            let end = (b.0 - dx / length * 16 + nx, b.1 - dy / length * 16 + ny)
            let label = "\(edge["limit_display"] ?? "")/\(edge["owed_display"] ?? "")"
            svg += "<line x1=\"\(f(a.0 + nx))\" y1=\"\(f(a.1 + ny))\" x2=\"\(f(end.0))\" y2=\"\(f(end.1))\" stroke=\"#5b6b82\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\n"
            // Each direction's label sits on its own side of the pair of lines.
            let anchor = abs(nx) < 0.5 ? "middle" : nx > 0 ? "start" : "end"
            svg += "<text x=\"\(f((a.0 + b.0) / 2 + nx * 2))\" y=\"\(f((a.1 + b.1) / 2 + ny * 4))\" font-size=\"10\" fill=\"#5b6b82\" text-anchor=\"\(anchor)\">\(label)</text>\n"
        }
        for (node, (x, y)) in position.sorted(by: { $0.key < $1.key }) {
            let fill = node == center ? "#1d2430" : "#8fa3bf"
            svg += "<a href=\"/graph/\(node)\"><circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"14\" fill=\"\(fill)\"><title>\(node)</title></circle>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(y + 28))\" font-size=\"11\" font-family=\"monospace\" text-anchor=\"middle\">\(node.prefix(10))…</text></a>\n"
        }
        return svg + "</svg>"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
