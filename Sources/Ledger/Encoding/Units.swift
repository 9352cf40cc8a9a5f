/// Amounts are integer bandwidth bytes; people read them with binary prefixes.
public enum Units {
    static let prefixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    /// "1.50 GiB", exact bytes below 1 KiB. Display only; no ledger logic ever uses the result.
    public static func display(_ bytes: UInt64) -> String {
        var index = 0
        var whole = bytes
        var divisor: UInt64 = 1
        while whole >= 1024 && index < prefixes.count - 1 {
            whole /= 1024
            divisor *= 1024
            index += 1
        }
        if index == 0 { return "\(bytes) B" }
        // Two decimals, computed in integers (truncated).
        let hundredths = (bytes % divisor) * 100 / divisor
        return "\(whole).\(hundredths < 10 ? "0" : "")\(hundredths) \(prefixes[index])"
    }

    /// Parses "1024", "1.5GiB", "2 MiB", "512KiB". Nil on anything else.
    public static func parse(_ text: String) -> UInt64? {
        let trimmed = String(text.filter { $0 != " " })
        var numberPart = Substring(trimmed)
        var multiplier: UInt64 = 1
        for (index, prefix) in prefixes.enumerated().reversed() where index > 0 && trimmed.hasSuffix(prefix) {
            numberPart = trimmed.dropLast(prefix.count)
            multiplier = 1 << (10 * UInt64(index))
            break
        }
        if multiplier == 1, trimmed.hasSuffix("B") { numberPart = trimmed.dropLast() }
        let pieces = numberPart.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let whole = UInt64(pieces[0]) else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        guard pieces.count == 2 else { return scaled }
        let fraction = pieces[1]
        guard !fraction.isEmpty, fraction.count <= 6, let digits = UInt64(fraction) else { return nil }
        var scale: UInt64 = 1
        for _ in 0..<fraction.count { scale *= 10 }
        let (fractionPart, overflow2) = digits.multipliedReportingOverflow(by: multiplier)
        guard !overflow2 else { return nil }
        let (total, overflow3) = scaled.addingReportingOverflow(fractionPart / scale)
        return overflow3 ? nil : total
    }
}
