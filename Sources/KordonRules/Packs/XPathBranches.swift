import Foundation

/// Which namespace prefixes each branch of an element rule's XPath needs declared before it
/// can select anything, so that a rule is not evaluated on documents that cannot match it.
///
/// An expression `//a:X/b:Y[c:Z] | //d:W` has two branches; the first selects nothing unless the
/// document declares a namespace of `a` and one of `b` (a name test on the main path matches
/// only elements of that namespace, and each step selects from the previous one's result;
/// prefixes inside predicates, such as `c`, are not needed). The second needs `d`. A rule whose
/// every branch needs a prefix the document does not declare cannot select anything.
///
/// Only the usual shape of rules is read: a union of absolute location paths whose steps are an
/// optional axis, a node test and predicates. Anything else (a parenthesised or function
/// expression at the top) gives `nil`: the rule is always evaluated.
enum XPathBranches {
    /// Per branch, the prefixes of its main-path name tests; `nil` when the expression is not
    /// of the shape described above.
    static func requiredPrefixes(of xpath: String) -> [[String]]? {
        guard let branches = split(xpath, on: "|") else { return nil }
        var result: [[String]] = []
        for branch in branches {
            let text = branch.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("/"), let steps = split(text, on: "/") else { return nil }
            var prefixes: [String] = []
            for step in steps {
                let trimmed = step.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }   // `//` and the leading `/`
                guard var test = trimmed.split(separator: "[", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
                else { return nil }
                test = test.trimmingCharacters(in: .whitespaces)
                if let axis = test.range(of: "::") { test = String(test[axis.upperBound...]) }
                switch test {
                case "*", ".", "..", "node()", "text()": continue
                default: break
                }
                let parts = test.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.allSatisfy({ isName($0) || $0 == "*" }), !parts.isEmpty, parts.count <= 2, isName(parts[0]) else {
                    return nil
                }
                if parts.count == 2, !prefixes.contains(String(parts[0])) { prefixes.append(String(parts[0])) }
            }
            result.append(prefixes)
        }
        return result
    }

    /// `text` split on `separator` outside brackets, parentheses and string literals;
    /// `nil` when they do not balance.
    private static func split(_ text: String, on separator: Character) -> [String]? {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "[" || character == "(" {
                depth += 1
            } else if character == "]" || character == ")" {
                depth -= 1
                if depth < 0 { return nil }
            } else if character == separator, depth == 0 {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        guard depth == 0, quote == nil else { return nil }
        parts.append(current)
        return parts
    }

    /// An XML name without a colon (ASCII letters, digits, `_`, `-`, `.`; not starting with a digit).
    private static func isName<S: StringProtocol>(_ text: S) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }
}
