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
    /// The branches of `xpath` and the prefixes its predicates use; `nil` when the
    /// expression is not of the shape described above.
    static func parse(_ xpath: String) -> (branches: [XPathBranch], predicatePrefixes: Set<String>)? {
        guard let parts = split(xpath, on: "|") else { return nil }
        var branches: [XPathBranch] = []
        var predicatePrefixes: Set<String> = []
        for part in parts {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("/"), let steps = split(text, on: "/") else { return nil }
            var tests: [XPathBranch.NameTest] = []
            for step in steps {
                let trimmed = step.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }   // `//` and the leading `/`
                var test = trimmed
                if let bracket = trimmed.firstIndex(of: "[") {
                    test = String(trimmed[..<bracket])
                    predicatePrefixes.formUnion(XPathPrefixes.of(String(trimmed[bracket...])))
                }
                test = test.trimmingCharacters(in: .whitespaces)
                if let axis = test.range(of: "::") {
                    // Name tests on these axes select elements; attributes and namespaces are not read.
                    guard elementAxes.contains(String(test[..<axis.lowerBound])) else { return nil }
                    test = String(test[axis.upperBound...])
                }
                switch test {
                case "*", ".", "..", "node()", "text()": continue
                default: break
                }
                let names = test.split(separator: ":", omittingEmptySubsequences: false)
                guard !names.isEmpty, names.count <= 2, isName(names[0]),
                      names.count == 1 || isName(names[1]) || names[1] == "*" else { return nil }
                if names.count == 2 { tests.append(XPathBranch.NameTest(prefix: String(names[0]), localName: String(names[1]))) }
            }
            branches.append(XPathBranch(text: text, tests: tests))
        }
        return (branches, predicatePrefixes)
    }

    /// Per branch, the prefixes of its main-path name tests; `nil` when the expression is not
    /// of the shape described above.
    static func requiredPrefixes(of xpath: String) -> [[String]]? {
        parse(xpath)?.branches.map { branch in
            var prefixes: [String] = []
            for test in branch.tests where !prefixes.contains(test.prefix) { prefixes.append(test.prefix) }
            return prefixes
        }
    }

    private static let elementAxes: Set<String> = [
        "child", "descendant", "descendant-or-self", "self", "parent", "ancestor", "ancestor-or-self",
        "following", "following-sibling", "preceding", "preceding-sibling",
    ]

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

/// One `|`-branch of an element rule's XPath: its text and the prefixed name tests of its main
/// path (outside predicates), each of which must match some element for the branch to select one.
public struct XPathBranch: Sendable, Hashable {
    /// A name test `prefix:localName`; `localName` is `*` for `prefix:*`.
    public struct NameTest: Sendable, Hashable {
        /// The prefix, declared in the pack.
        public var prefix: String
        /// The local name, or `*`.
        public var localName: String
    }
    /// The branch as written.
    public var text: String
    /// Its main-path name tests.
    public var tests: [NameTest]
}
