/// A namespace a rule's prefix may stand for: one URI, or a family of URIs that
/// differ in their version or in what follows a common stem.
///
/// Album versions change with every edition of a format (`urn:customs.ru:CommonAggregateTypes:5.22.0`,
/// `…:5.23.0`; `urn:EEC:M:SimpleDataObjects:v0.4.6`, `…:v0.4.14`), so packs name families:
///
/// - `urn:customs.ru:CommonAggregateTypes:*` — a **version wildcard**: the stem, then a version
///   made of numbers joined by dots (`5.22.0`). `urn:EEC:M:SimpleDataObjects:v*` is the same with
///   the EEC's `v` (`v0.4.14`).
/// - `urn:customs.ru:**` — a **namespace family**: every namespace that begins with the stem
///   (`urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0` …). The stem needs at least
///   two parts before its final colon, so that no pattern stands for every URN.
///
/// A wildcard anywhere else is refused (``parse(_:)``). A document is matched against the
/// namespaces it actually declares (``expand(_:declared:)``), so a pattern costs one XPath
/// evaluation per matching declared namespace, never one per possible version.
public struct NamespacePattern: Sendable, Hashable, CustomStringConvertible {
    /// What the pattern matches.
    public enum Kind: Sendable, Hashable {
        /// Exactly this URI.
        case exact
        /// The stem followed by a version (`5.22.0`), nothing else.
        case version
        /// The stem followed by anything (at least one character).
        case family
    }

    /// The pattern as written in the pack or configuration.
    public let description: String
    /// What the pattern matches.
    public let kind: Kind
    /// The URI (``Kind/exact``), or the text before the wildcard.
    public let stem: String

    /// Parses `text`; throws a ``NamespacePatternError`` saying what a wildcard may look like.
    public static func parse(_ text: String) throws(NamespacePatternError) -> NamespacePattern {
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace }) else {
            throw NamespacePatternError(pattern: text, problem: "is empty or holds white space")
        }
        guard text.contains("*") else { return NamespacePattern(description: text, kind: .exact, stem: text) }
        let kind: Kind
        let stem: String
        if text.hasSuffix(":**") {
            kind = .family
            stem = String(text.dropLast(2))
            guard stem.split(separator: ":", omittingEmptySubsequences: false).count >= 3 else {
                throw NamespacePatternError(pattern: text, problem: "is too broad: a family `…:**` needs a stem of at least two parts, such as `urn:customs.ru:**`")
            }
        } else if text.hasSuffix(":*") || text.hasSuffix(":v*") {
            kind = .version
            stem = String(text.dropLast())
        } else {
            throw NamespacePatternError(pattern: text, problem: "puts a wildcard where none may stand")
        }
        guard !stem.contains("*") else {
            throw NamespacePatternError(pattern: text, problem: "holds more than one wildcard")
        }
        guard stem.split(separator: ":", omittingEmptySubsequences: false).count >= 2,
              !stem.hasPrefix(":") else {
            throw NamespacePatternError(pattern: text, problem: "has no stem before its wildcard")
        }
        return NamespacePattern(description: text, kind: kind, stem: stem)
    }

    /// Whether the pattern stands for more than one URI.
    public var isWildcard: Bool { kind != .exact }

    /// Whether `uri` is one of the namespaces the pattern stands for.
    public func matches(_ uri: String) -> Bool {
        switch kind {
        case .exact:
            return uri == stem
        case .family:
            return uri.count > stem.count && uri.hasPrefix(stem)
        case .version:
            guard uri.hasPrefix(stem) else { return false }
            return Self.isVersion(uri.utf8.dropFirst(stem.utf8.count))
        }
    }

    /// `5`, `5.22.0`, `0.4.14`: numbers joined by single dots.
    private static func isVersion(_ bytes: Substring.UTF8View.SubSequence) -> Bool {
        var previousWasDigit = false
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                previousWasDigit = true
            } else if byte == UInt8(ascii: "."), previousWasDigit {
                previousWasDigit = false
            } else {
                return false
            }
        }
        return previousWasDigit
    }

    private init(description: String, kind: Kind, stem: String) {
        self.description = description
        self.kind = kind
        self.stem = stem
    }

    /// `bindings` (prefix → URIs and patterns) with every pattern replaced by the namespaces of
    /// `declared` that it matches, in sorted order after the prefix's exact URIs.
    ///
    /// A prefix none of whose entries is declared keeps its entries as written: bound to a
    /// namespace the document does not declare, its steps select nothing, as they should.
    /// Entries that do not parse are kept as exact URIs (packs are checked when they load).
    public static func expand(_ bindings: [String: [String]], declared: Set<String>) -> [String: [String]] {
        guard bindings.values.contains(where: { $0.contains { $0.contains("*") } }) else { return bindings }
        return bindings.mapValues { entries in
            guard entries.contains(where: { $0.contains("*") }) else { return entries }
            var result: [String] = []
            var wildcards: [NamespacePattern] = []
            for entry in entries {
                if let pattern = try? parse(entry), pattern.isWildcard {
                    wildcards.append(pattern)
                } else if !result.contains(entry) {
                    result.append(entry)
                }
            }
            let matching = declared.filter { uri in wildcards.contains { $0.matches(uri) } && !result.contains(uri) }
            result += matching.sorted()
            return result.contains(where: declared.contains) ? result : entries
        }
    }
}

/// A namespace pattern that does not parse; ``message`` says why and what may be written.
public struct NamespacePatternError: Error, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public var pattern: String
    /// What is wrong with it.
    public var problem: String

    /// The problem and the two forms a wildcard may take.
    public var message: String {
        "`\(pattern)` \(problem); a namespace is a URI, or ends in a wildcard: `…:*` for any version "
            + "(`urn:customs.ru:CommonAggregateTypes:*`, `urn:EEC:M:SimpleDataObjects:v*`) "
            + "or `…:**` for every namespace below a stem (`urn:customs.ru:**`)"
    }

    /// Same as ``message``.
    public var description: String { message }
}
