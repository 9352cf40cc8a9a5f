import Foundation

/// Small bar charts drawn on the server as SVG (no JavaScript). Labels are event numbers or ID
/// prefixes — Bech32 text and digits — so nothing in them needs escaping.
enum SVGCharts {
    static func bars(id: String, values: [(label: String, value: UInt64)], empty: String) -> String {
        guard !values.isEmpty, let top = values.map(\.value).max(), top > 0 else { return "<p class=\"muted\" id=\"\(id)\">\(empty)</p>" }
        let width = 640.0, height = 220.0, left = 70.0, bottom = 40.0
        let slot = (width - left - 10) / Double(values.count), barWidth = max(2, slot * 0.7)
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"chart\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\" stroke=\"#dde1e7\"/>"
        svg += "<text x=\"\(Int(left - 6))\" y=\"16\" font-size=\"10\" text-anchor=\"end\">\(display(top))</text>"
        svg += "<line x1=\"\(Int(left))\" y1=\"\(Int(height - bottom))\" x2=\"\(Int(width - 10))\" y2=\"\(Int(height - bottom))\" stroke=\"#5b6b82\"/>"
        for (index, entry) in values.enumerated() {
            let barHeight = (height - bottom - 20) * Double(entry.value) / Double(top)
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#5b7bb2\"><title>%@: %@</title></rect>",
                          x, height - bottom - barHeight, barWidth, barHeight, entry.label, display(entry.value))
            if values.count <= 20 {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%@</text>", x + barWidth / 2, height - bottom + 14, entry.label)
            }
        }
        return svg + "</svg>"
    }

    /// Credit used against its limit over time: a bar per point for what is owed, and the limit as a
    /// dashed step line over them. Points oldest first.
    static func usedAgainstLimit(id: String, points: [(label: String, used: UInt64, limit: UInt64)], empty: String) -> String {
        guard !points.isEmpty, let top = points.map({ max($0.used, $0.limit) }).max(), top > 0 else { return "<p class=\"muted\" id=\"\(id)\">\(empty)</p>" }
        let width = 640.0, height = 220.0, left = 70.0, bottom = 40.0
        let slot = (width - left - 10) / Double(points.count), barWidth = max(2, slot * 0.7)
        let y = { (value: UInt64) in height - bottom - (height - bottom - 20) * Double(value) / Double(top) }
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"credit used against its limit\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\" stroke=\"#dde1e7\"/>"
        svg += "<text x=\"\(Int(left - 6))\" y=\"16\" font-size=\"10\" text-anchor=\"end\">\(display(top))</text>"
        svg += "<line x1=\"\(Int(left))\" y1=\"\(Int(height - bottom))\" x2=\"\(Int(width - 10))\" y2=\"\(Int(height - bottom))\" stroke=\"#5b6b82\"/>"
        var limitLine: [String] = []
        for (index, point) in points.enumerated() {
            let x = left + Double(index) * slot
            svg += String(format: "<rect class=\"used\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#5b7bb2\"><title>%@: owed %@ of %@</title></rect>",
                          x + (slot - barWidth) / 2, y(point.used), barWidth, height - bottom - y(point.used), point.label, display(point.used), display(point.limit))
            limitLine.append(String(format: "%.1f,%.1f %.1f,%.1f", x, y(point.limit), x + slot, y(point.limit)))
            if points.count <= 12 {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%@</text>", x + slot / 2, height - bottom + 14, point.label)
            }
        }
        svg += "<polyline class=\"limit\" points=\"\(limitLine.joined(separator: " "))\" fill=\"none\" stroke=\"#b23b3b\" stroke-dasharray=\"4 3\"><title>limit</title></polyline>"
        return svg + "</svg>"
    }

    private static func display(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value), index = 0
        while amount >= 1024 && index < units.count - 1 { amount /= 1024; index += 1 }
        return String(format: index == 0 ? "%.0f %@" : "%.1f %@", amount, units[index])
    }
}
