import Foundation

/// Collects figures and writes them as Markdown (BENCHMARKS.md) and JSON beside it.
struct Report {
    struct Row {
        let name: String
        let value: String
        let note: String
    }

    var rows: [Row] = []
    var json: [String: Any] = [:]

    mutating func add(_ name: String, _ value: String, _ note: String = "", key: String, _ raw: Any) {
        rows.append(Row(name: name, value: value, note: note))
        json[key] = raw
        print("\(name): \(value)\(note.isEmpty ? "" : "  (\(note))")")
    }

    /// Figures that could not be measured: shown as failures, never as numbers.
    var failures: [String] = []

    /// Records that a figure could not be measured, and why.
    mutating func fail(_ name: String, _ reason: String, key: String) {
        rows.append(Row(name: name, value: "**not measured (failure)**", note: reason))
        json[key] = ["failed": reason]
        failures.append(name)
        print("FAILED: \(name): \(reason)")
    }

    func write(to path: String, machine: String) throws {
        var text = """
            # Benchmarks

            Written by `make bench` (`.build/release/ledger-bench`); every figure below was measured in that run
            on this machine (\(machine)). Ratios are taken against references measured in the same run.
            References from DESIGN §8 for this machine kind: BIP-340 verify ≈ 24,000/s and sign ≈ 42,000/s on
            one core; SQLite ≈ 460,000 rows/s through the raw C API.

            | figure | measured | notes |
            |---|---|---|

            """
        for row in rows { text += "| \(row.name) | \(row.value) | \(row.note) |\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let jsonPath = (path as NSString).deletingPathExtension + ".json"
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: jsonPath))
    }
}

/// Seconds taken by `body`, on a monotonic clock.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let elapsed = try clock.measure(body)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// "1,234,567" or "12.3": thousands grouped, a fixed number of decimals.
func formatted(_ value: Double, decimals: Int = 0) -> String {
    let text = String(format: "%.\(decimals)f", value)
    let parts = text.split(separator: ".", maxSplits: 1)
    var whole = String(parts[0])
    let negative = whole.hasPrefix("-")
    if negative { whole.removeFirst() }
    var grouped = ""
    for (index, character) in whole.reversed().enumerated() {
        if index > 0 && index % 3 == 0 { grouped.append(",") }
        grouped.append(character)
    }
    return (negative ? "-" : "") + String(grouped.reversed()) + (parts.count > 1 ? "." + parts[1] : "")
}

