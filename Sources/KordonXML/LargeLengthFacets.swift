import CLibXML2
import Foundation
import KordonCore

/// A workaround for libxml2 2.9.14 (Debian 12), which reads a length facet of 100,000,000
/// or more modulo 10⁸: it keeps the low eight decimal digits of the value only, so the
/// album's `Text99MB` (`maxLength="103809024"`, photos of inspection acts) is enforced as
/// 3,809,024 characters and a valid 4 MB photo is refused.
///
/// No value libxml2 reads can stand for such a limit, so Kordon takes the facet out of
/// the copy of the schema file it hands libxml2 (``patched(_:)``: the facet element is
/// blanked, byte positions and line numbers unchanged) and enforces it itself after
/// libxml2 has validated the document (``issues(in:)``), on every element whose type
/// carries it, with libxml2's own wording. The check is never weaker than the schema.
/// (Length facets on attribute types are not re-enforced; the album has none.)
struct LargeLengthFacets: Sendable {
    /// Facet values from here on are misread.
    static let threshold = 100_000_000

    /// The limits by element name.
    let elements: [QName: ElementLengthLimit]

    /// Nothing to enforce.
    static let none = LargeLengthFacets(elements: [:])

    init(elements: [QName: ElementLengthLimit]) {
        self.elements = elements
    }

    /// The schema file's bytes with every misread length facet blanked out, or `nil`
    /// when it has none (the file is then loaded as it is).
    static func patched(_ data: Data) -> Data? {
        // Every file a schema compile opens comes through here: a quoted run of nine
        // digits or more is rare, and without one there is nothing to look at.
        guard hasLongQuotedNumber(data) else { return nil }
        var bytes = [UInt8](data)
        var changed = false
        for range in largeFacetElements(in: bytes) {
            for index in range where bytes[index] != UInt8(ascii: "\n") && bytes[index] != UInt8(ascii: "\r") {
                bytes[index] = UInt8(ascii: " ")
            }
            changed = true
        }
        return changed ? Data(bytes) : nil
    }

    /// Checks every element that carries one of the limits; issues in document order.
    func issues(in document: XMLDocument, maxIssues: Int) -> (issues: [SchemaIssue], count: Int) {
        guard !elements.isEmpty else { return ([], 0) }
        var issues: [SchemaIssue] = [], count = 0
        document.walk { node, tracker in
            guard let limit = elements[node.qname] else { return }
            let length = node.withTextBytes { text in
                limit.countsOctets ? Self.octets(inBase64: text) : Self.characters(in: text)
            }
            guard let message = limit.violation(length: length, element: node.qname) else { return }
            count += 1
            if issues.count < maxIssues {
                issues.append(SchemaIssue(path: tracker.path, line: node.line, message: message))
            }
        }
        return (issues, count)
    }

    /// Unicode characters in UTF-8 text (XML Schema measures strings in characters).
    private static func characters(in text: UnsafeBufferPointer<UInt8>) -> Int {
        text.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// Octets that base64 text stands for (whitespace collapsed, padding not counted).
    private static func octets(inBase64 text: UnsafeBufferPointer<UInt8>) -> Int {
        var symbols = 0, padding = 0
        for byte in text {
            switch byte {
            case UInt8(ascii: "="): padding += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            default: symbols += 1
            }
        }
        return (symbols + padding) / 4 * 3 - padding
    }

    /// Whether a quote is followed by nine digits or more (leading zeros aside).
    private static func hasLongQuotedNumber(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            while index < bytes.count {
                defer { index += 1 }
                guard bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else { continue }
                var digit = index + 1
                while digit < bytes.count, bytes[digit] == UInt8(ascii: "0") { digit += 1 }
                let start = digit
                while digit < bytes.count, bytes[digit] >= UInt8(ascii: "0"), bytes[digit] <= UInt8(ascii: "9") { digit += 1 }
                if digit - start >= 9 { return true }
            }
            return false
        }
    }

    /// Byte ranges of `<…length value="NNNNNNNNN"…/>` (or `<…>…</…length>`) elements whose
    /// value is at or above the threshold.
    private static func largeFacetElements(in bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = 0
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) {
            index = open + 1
            guard let close = bytes[open...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let tag = String(decoding: bytes[open...close], as: UTF8.self)
            guard let facet = LengthFacet(startTag: tag), facet.value >= threshold else { continue }
            if tag.hasSuffix("/>") {
                ranges.append(open..<(close + 1))
            } else if let end = endTag(named: facet.tagName, in: bytes, from: close + 1) {
                ranges.append(open..<end)
            }
            index = close + 1
        }
        return ranges
    }

    private static func endTag(named name: String, in bytes: [UInt8], from start: Int) -> Int? {
        let needle = Array("</\(name)".utf8)
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<(index + needle.count)].elementsEqual(needle),
               let close = bytes[index...].firstIndex(of: UInt8(ascii: ">")) {
                return close + 1
            }
            index += 1
        }
        return nil
    }
}

/// One `length`, `minLength` or `maxLength` facet.
struct LengthFacet: Sendable, Equatable {
    enum Kind: String, Sendable { case length, minLength, maxLength }
    let kind: Kind
    let value: Int
    /// The facet's tag as written (`xs:maxLength`), for finding its end tag.
    let tagName: String

    /// Reads a facet from a start tag such as `<xs:maxLength value="103809024" />`.
    init?(startTag tag: String) {
        let body = tag.dropFirst().prefix { !$0.isWhitespace && $0 != "/" && $0 != ">" }
        let local = body.split(separator: ":").last.map(String.init) ?? ""
        guard let kind = Kind(rawValue: local),
              let valueStart = tag.range(of: "value")?.upperBound else { return nil }
        let rest = tag[valueStart...].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" || $0.isWhitespace }
        guard let value = Int(rest.prefix { $0.isNumber }) else { return nil }
        self.kind = kind
        self.value = value
        self.tagName = String(body)
    }

    init(kind: Kind, value: Int) {
        self.kind = kind
        self.value = value
        self.tagName = kind.rawValue
    }

    /// The misread facets among the restriction steps of a simple or complex type definition.
    static func large(in type: XMLNode) -> [LengthFacet] {
        var steps: [XMLNode] = []
        for child in type.children where child.namespace == xsdNamespace {
            if child.localName == "restriction" { steps.append(child) }
            if child.localName == "simpleContent" {
                steps += child.children.filter { $0.namespace == xsdNamespace && $0.localName == "restriction" }
            }
        }
        return steps.flatMap { step in
            step.children.compactMap { facet -> LengthFacet? in
                guard facet.namespace == xsdNamespace, let kind = Kind(rawValue: facet.localName),
                      let value = facet.attribute("value").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
                      value >= LargeLengthFacets.threshold
                else { return nil }
                return LengthFacet(kind: kind, value: value)
            }
        }
    }
}

/// The limits one element's type puts on its value's length.
struct ElementLengthLimit: Sendable {
    let facets: [LengthFacet]
    /// Binary types are measured in octets, strings in characters.
    let countsOctets: Bool

    /// Both declarations' limits.
    func merged(with other: ElementLengthLimit) -> ElementLengthLimit {
        ElementLengthLimit(facets: facets + other.facets, countsOctets: countsOctets || other.countsOctets)
    }

    /// libxml2's message for a value of `length` that breaks a facet, or `nil`.
    func violation(length: Int, element: QName) -> String? {
        for facet in facets {
            switch facet.kind {
            case .maxLength where length > facet.value:
                return "Element '\(element)': [facet 'maxLength'] The value has a length of '\(length)'; this exceeds the allowed maximum length of '\(facet.value)'."
            case .minLength where length < facet.value:
                return "Element '\(element)': [facet 'minLength'] The value has a length of '\(length)'; this underruns the allowed minimum length of '\(facet.value)'."
            case .length where length != facet.value:
                return "Element '\(element)': [facet 'length'] The value has a length of '\(length)'; this differs from the allowed length of '\(facet.value)'."
            default:
                continue
            }
        }
        return nil
    }
}
