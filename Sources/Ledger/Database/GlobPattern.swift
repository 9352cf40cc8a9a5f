/// Redis's glob patterns for KEYS: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` escaping a character.
/// Iterative, with one backtrack point (the last `*`), so no pattern can deepen the stack; `budget` bounds
/// the steps of one whole KEYS call, so many stars against many long keys cannot hold the database.
struct GlobPattern {
    static let patternBytesMax = 4_096
    var budget: Int

    init(budget: Int = 10_000_000) { self.budget = budget }

    /// Whether `text` matches; false once the budget is spent.
    mutating func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0, starP = -1, starT = 0
        while t < text.count {
            budget -= 1
            if budget < 0 { return false }
            if p < pattern.count {
                let c = pattern[p]
                if c == UInt8(ascii: "*") {
                    starP = p
                    starT = t
                    p += 1
                    continue
                }
                if let (matched, next) = single(pattern, p, text[t]), matched {
                    p = next
                    t += 1
                    continue
                }
            }
            // Mismatch: let the last star take one more byte, or fail.
            guard starP >= 0 else { return false }
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Whether the pattern element at `p` (not a star) matches `byte`, and where the next element starts.
    func single(_ pattern: [UInt8], _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var p = start
        switch pattern[p] {
        case UInt8(ascii: "?"): return (true, p + 1)
        case UInt8(ascii: "\\") where p + 1 < pattern.count: return (pattern[p + 1] == byte, p + 2)
        case UInt8(ascii: "["):
            p += 1
            let negate = p < pattern.count && pattern[p] == UInt8(ascii: "^")
            if negate { p += 1 }
            var matched = false
            while p < pattern.count && pattern[p] != UInt8(ascii: "]") {
                if pattern[p] == UInt8(ascii: "\\"), p + 1 < pattern.count {
                    if pattern[p + 1] == byte { matched = true }
                    p += 2
                } else if p + 2 < pattern.count, pattern[p + 1] == UInt8(ascii: "-"), pattern[p + 2] != UInt8(ascii: "]") {
                    let low = min(pattern[p], pattern[p + 2]), high = max(pattern[p], pattern[p + 2])
                    if byte >= low && byte <= high { matched = true }
                    p += 3
                } else {
                    if pattern[p] == byte { matched = true }
                    p += 1
                }
            }
            if p < pattern.count { p += 1 }
            return (matched != negate, p)
        default: return (pattern[p] == byte, p + 1)
        }
    }
}
