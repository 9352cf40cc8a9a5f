/// Redis's glob patterns for KEYS: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` escaping a character.
enum GlobPattern {
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var steps = 0
        return match(pattern[...], text[...], &steps)
    }

    /// `steps` bounds the work a hostile pattern (many stars) can cost.
    private static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>, _ steps: inout Int) -> Bool {
        var p = pattern, t = text
        while let c = p.first {
            steps += 1
            if steps > 1_000_000 { return false }
            switch c {
            case UInt8(ascii: "*"):
                while p.first == UInt8(ascii: "*") { p = p.dropFirst() }
                if p.isEmpty { return true }
                var rest = t
                while true {
                    if match(p, rest, &steps) { return true }
                    if rest.isEmpty || steps > 1_000_000 { return false }
                    rest = rest.dropFirst()
                }
            case UInt8(ascii: "?"):
                guard !t.isEmpty else { return false }
                p = p.dropFirst(); t = t.dropFirst()
            case UInt8(ascii: "["):
                guard let ch = t.first else { return false }
                p = p.dropFirst()
                let negate = p.first == UInt8(ascii: "^")
                if negate { p = p.dropFirst() }
                var matched = false
                while let q = p.first, q != UInt8(ascii: "]") {
                    if q == UInt8(ascii: "\\"), p.count >= 2 {
                        p = p.dropFirst()
                        if p.first == ch { matched = true }
                        p = p.dropFirst()
                    } else if p.count >= 3, p[p.startIndex + 1] == UInt8(ascii: "-") {
                        let low = min(q, p[p.startIndex + 2]), high = max(q, p[p.startIndex + 2])
                        if ch >= low && ch <= high { matched = true }
                        p = p.dropFirst(3)
                    } else {
                        if q == ch { matched = true }
                        p = p.dropFirst()
                    }
                }
                if p.first == UInt8(ascii: "]") { p = p.dropFirst() }
                guard matched != negate else { return false }
                t = t.dropFirst()
            case UInt8(ascii: "\\") where p.count >= 2:
                p = p.dropFirst()
                guard t.first == p.first else { return false }
                p = p.dropFirst(); t = t.dropFirst()
            default:
                guard t.first == c else { return false }
                p = p.dropFirst(); t = t.dropFirst()
            }
        }
        return t.isEmpty
    }
}
