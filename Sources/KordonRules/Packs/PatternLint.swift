/// Checks a detector pattern for what byte-wise matching would silently get wrong.
///
/// Patterns are compiled without `HS_FLAG_UTF8` (Hyperscan leaves invalid UTF-8
/// under that flag undefined, and the text is untrusted), so a non-ASCII letter is
/// a sequence of bytes: fine as a literal or an alternative (`(?:А|В)`), wrong
/// inside a class (`[АВ]` would be a class of bytes) or before a quantifier
/// (`Ж?` would only make its last byte optional). Anchors are refused too: Kordon
/// puts its own boundary classes around every detector pattern.
enum PatternLint {
    /// A description of the problem, or `nil` when the pattern is fine.
    static func problem(in pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        var inClass = false
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" {
                index += 2
                continue
            }
            if inClass {
                if scalar == "]" { inClass = false }
                if !scalar.isASCII {
                    return "puts the non-ASCII character \(scalar) inside [...]; patterns match UTF-8 byte by byte, so write alternatives such as (?:А|В) instead"
                }
            } else if scalar == "^" || scalar == "$" {
                return "holds the anchor \(scalar); leave it out: Kordon adds the boundaries around every detector pattern"
            } else if scalar == "[" {
                inClass = true
                // A `]` right after `[` or `[^` is a literal member of the class.
                if index + 1 < scalars.count, scalars[index + 1] == "^" { index += 1 }
                if index + 1 < scalars.count, scalars[index + 1] == "]" { index += 1 }
            } else if !scalar.isASCII, index + 1 < scalars.count, "?*+{".unicodeScalars.contains(scalars[index + 1]) {
                return "puts a quantifier right after the non-ASCII character \(scalar); group it first, as in (?:\(scalar))?"
            }
            index += 1
        }
        return nil
    }
}
