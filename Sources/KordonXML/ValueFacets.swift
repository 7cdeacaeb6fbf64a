import CLibXML2
import Foundation

/// The restrictions one `xs:restriction` step of a simple type adds.
struct FacetStep: Sendable, Hashable {
    /// `xs:pattern` values of the step: a value must match one of them.
    var patterns: [String] = []
    /// `xs:enumeration` values of the step: a value must be one of them.
    var enumerations: [String] = []
    var length: Int?
    var minLength: Int?
    var maxLength: Int?
    var totalDigits: Int?
    var fractionDigits: Int?
    var minInclusive: String?
    var maxInclusive: String?
    var minExclusive: String?
    var maxExclusive: String?
    /// `preserve`, `replace` or `collapse`.
    var whiteSpace: String?

    /// Whether the step restricts anything.
    var isEmpty: Bool { self == FacetStep() }
}

/// What an element's simple type (or the simple content of its complex type) accepts:
/// the XSD built-in it derives from and the facets of every derivation step, which a
/// value must all satisfy. Unions and lists are not judged (``isJudged`` is false).
struct ValueFacets: Sendable, Hashable {
    /// The type's name for reports: `{urn:…}IINType`, or `an anonymous type of {urn:…}IIN`.
    var typeName: String
    /// The local name of the XSD built-in type at the bottom of the derivation (`token`).
    var builtin: String
    /// Facets, most derived step first.
    var steps: [FacetStep]

    /// Whether Kordon can tell what the type accepts: an atomic type derived from a
    /// built-in whose lexical space it checks. Binary and namespace-dependent built-ins
    /// (QName, NOTATION) are not judged; a pattern libxml2 cannot compile is skipped.
    var isJudged: Bool {
        !["base64Binary", "hexBinary", "QName", "NOTATION", "anyType", "anySimpleType", "anyAtomicType"].contains(builtin)
    }

    /// Whether UTF-8 `value`, as it stands in the document, is a valid value of the type.
    func accepts(_ value: [UInt8]) -> Bool {
        guard isJudged else { return true }
        let text = normalized(String(decoding: value, as: UTF8.self))
        let bytes = Array(text.utf8)
        if !Self.stringFamily.contains(builtin), !Self.lexicallyValid(text, builtin: builtin) { return false }
        let length = Self.binaryFamily.contains(builtin) ? bytes.count : text.unicodeScalars.count
        let numeric = Self.decimalFamily.contains(builtin)
        for step in steps {
            if let wanted = step.length, length != wanted { return false }
            if let least = step.minLength, length < least { return false }
            if let most = step.maxLength, length > most { return false }
            if !step.enumerations.isEmpty, !step.enumerations.contains(where: { normalized($0) == text }) { return false }
            if !step.patterns.isEmpty {
                let compiled = step.patterns.compactMap { XSDPatternCache.shared.pattern($0) }
                // A step with a pattern libxml2 cannot compile says nothing Kordon can check.
                if compiled.count == step.patterns.count, !compiled.contains(where: { $0.matches(bytes) == true }) {
                    return false
                }
            }
            if numeric, !Self.withinBounds(text, step) { return false }
        }
        return true
    }

    /// `value` after the type's whiteSpace facet (the most derived one, else the built-in's).
    func normalized(_ value: String) -> String {
        let rule = steps.lazy.compactMap(\.whiteSpace).first
            ?? (builtin == "string" ? "preserve" : builtin == "normalizedString" ? "replace" : "collapse")
        switch rule {
        case "preserve":
            return value
        case "replace":
            return String(value.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
        default:
            return value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                .joined(separator: " ")
        }
    }

    /// Built-ins whose every string is lexically valid (length and pattern aside).
    static let stringFamily: Set<String> = ["string", "normalizedString", "token"]
    /// Built-ins whose length facets count octets.
    static let binaryFamily: Set<String> = ["base64Binary", "hexBinary"]
    /// Built-ins ordered as decimal numbers (bounds and digit counts apply).
    static let decimalFamily: Set<String> = [
        "decimal", "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
        "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger",
    ]

    /// libxml2's own check of the built-in's lexical space (`xs:date`, `xs:integer`, `xs:language` …).
    private static func lexicallyValid(_ text: String, builtin: String) -> Bool {
        XMLRuntime.initialize()
        guard let type = xmlSchemaGetPredefinedType(builtin, xsdNamespace) else { return true }
        return xmlSchemaValidatePredefinedType(type, text, nil) == 0
    }

    /// Bounds and digit counts of a decimal value.
    private static func withinBounds(_ text: String, _ step: FacetStep) -> Bool {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return false }
        func bound(_ lexical: String?) -> Decimal? {
            lexical.flatMap { Decimal(string: $0.trimmingCharacters(in: .whitespaces), locale: Locale(identifier: "en_US_POSIX")) }
        }
        if let least = bound(step.minInclusive), value < least { return false }
        if let most = bound(step.maxInclusive), value > most { return false }
        if let least = bound(step.minExclusive), value <= least { return false }
        if let most = bound(step.maxExclusive), value >= most { return false }
        let unsigned = text.drop { $0 == "+" || $0 == "-" }
        let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first.map { $0.drop { $0 == "0" } } ?? ""
        let fraction = parts.count > 1 ? String(parts[1].reversed().drop { $0 == "0" }) : ""
        if let total = step.totalDigits, whole.count + fraction.count > total { return false }
        if let digits = step.fractionDigits, fraction.count > digits { return false }
        return true
    }

    /// A short, value-free account of the facets for a finding: `pattern \d{12}; length 12`.
    var summary: String {
        var parts: [String] = []
        for step in steps {
            if !step.patterns.isEmpty { parts.append("pattern " + step.patterns.joined(separator: " | ")) }
            if !step.enumerations.isEmpty { parts.append("one of \(step.enumerations.count) listed values") }
            if let length = step.length { parts.append("length \(length)") }
            if step.minLength != nil || step.maxLength != nil {
                parts.append("length \(step.minLength.map(String.init) ?? "0")–\(step.maxLength.map(String.init) ?? "∞")")
            }
            if let digits = step.totalDigits { parts.append("at most \(digits) digits") }
        }
        return parts.isEmpty ? "xs:\(builtin)" : "xs:\(builtin), " + parts.joined(separator: "; ")
    }
}
