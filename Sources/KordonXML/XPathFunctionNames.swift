/// Finds calls to functions libxml2 will not know, by reading the expression.
///
/// libxml2 looks functions up only when a call is evaluated, so a misspelt function in a
/// predicate goes unnoticed until a document reaches it. Kordon's XPath contexts register
/// no extension functions, so any call that is not an XPath 1.0 core function (or a node
/// test such as `text()`) is an error, and ``XMLSelector/check()`` reports it at load.
enum XPathFunctionNames {
    /// XPath 1.0 core functions, node-type tests, and the operator names (which may be
    /// followed by a parenthesis: `a and (b)`).
    static let known: Set<String> = [
        "last", "position", "count", "id", "local-name", "namespace-uri", "name",
        "string", "concat", "starts-with", "contains", "substring-before", "substring-after", "substring",
        "string-length", "normalize-space", "translate", "boolean", "not", "true", "false", "lang",
        "number", "sum", "floor", "ceiling", "round",
        "comment", "text", "processing-instruction", "node",
        "and", "or", "div", "mod",
    ]

    /// The first name followed by `(` that is not a known function, if any.
    static func firstUnknownCall(in expression: String) -> String? {
        let scalars = Array(expression.unicodeScalars)
        var k = 0
        while k < scalars.count {
            let c = scalars[k]
            if c == "'" || c == "\"" {  // a literal: skip to its closing quote
                k += 1
                while k < scalars.count, scalars[k] != c { k += 1 }
                k += 1
                continue
            }
            guard isNameStart(c) else { k += 1; continue }
            let start = k
            while k < scalars.count {
                if isNameCharacter(scalars[k]) { k += 1; continue }
                // One colon inside a QName (`x:f`), not the axis separator `::`.
                if scalars[k] == ":", k + 1 < scalars.count, isNameStart(scalars[k + 1]), k > start, scalars[k - 1] != ":" {
                    k += 1
                    continue
                }
                break
            }
            var next = k
            while next < scalars.count, scalars[next].properties.isWhitespace { next += 1 }
            if next < scalars.count, scalars[next] == "(" {
                let name = String(String.UnicodeScalarView(scalars[start..<k]))
                if !known.contains(name) { return name }
            }
        }
        return nil
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || c == "-" || c == "." || ("0"..."9").contains(c)
    }
}
