import Foundation
import KordonCore

/// Why Kordon refused a document before libxml2 saw it. Never carries document content.
struct XMLRefusal: Error, Sendable, Equatable {
    /// The finding rule, `xml.doctype`, `xml.depth`, ….
    let rule: String
    /// A human explanation naming the limit that was crossed.
    let detail: String
}

/// A linear, single-pass byte scanner that enforces Kordon's own XML bounds
/// before libxml2 parses anything.
///
/// libxml2's `XML_PARSE_HUGE` lifts its built-in limits (needed for base64 text
/// nodes over 10 MB), and 2.9 checks duplicate attributes quadratically, so Kordon
/// checks the bounds that matter itself, in one pass over the bytes: no DOCTYPE at all
/// (no agreed format uses DTDs and SOAP forbids them; this also rules out entity
/// expansion and external entities), element depth, attributes per start tag, name
/// length and attribute value length. It works on UTF-8 or any ASCII-compatible
/// single-byte encoding (see ``XMLInput``): all markup is ASCII there.
///
/// The scanner also records text runs of at least ``minimumRunLength`` bytes made
/// only of the base64 alphabet and whitespace, so that payloads Kordon decodes can
/// later be cut out of the copy ClamAV scans.
struct XMLGuard {
    /// The shortest text run recorded as a possible base64 payload.
    static let minimumRunLength = 256

    /// The bounds enforced.
    let limits: Limits

    /// Scans `data`; returns the recorded base64 text runs (byte ranges) or the refusal.
    func scan(_ data: Data) -> Result<[Range<Int>], XMLRefusal> {
        data.withUnsafeBytes { raw in
            Self.base64TextBytes.withUnsafeBufferPointer { table in
                var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self), base64Text: table, limits: limits)
                return scanner.run()
            }
        }
    }

    /// 1 for the bytes a base64 text run may hold (alphabet, `=`, XML whitespace).
    /// Read through a pointer taken once per scan: the run check is the guard's
    /// only per-byte loop over payload text.
    private static let base64TextBytes: [UInt8] = (0...255).map {
        isBase64Byte(UInt8($0)) || isXMLSpace(UInt8($0)) ? 1 : 0
    }
}

/// The base64 alphabet and `=`. Comparisons, not a global table: a global `let`
/// read in the hot loop costs a `swift_once` check per byte.
@inline(__always) func isBase64Byte(_ c: UInt8) -> Bool {
    (c &- 65) < 26 || (c &- 97) < 26 || (c &- 48) < 10 || c == 43 || c == 47 || c == 61
}

/// XML whitespace.
@inline(__always) func isXMLSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D
}

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let base64Text: UnsafeBufferPointer<UInt8>
    let limits: Limits
    var i = 0
    var depth = 0
    var runs: [Range<Int>] = []

    init(bytes: UnsafeBufferPointer<UInt8>, base64Text: UnsafeBufferPointer<UInt8>, limits: Limits) {
        self.bytes = bytes
        self.base64Text = base64Text
        self.limits = limits
    }

    mutating func run() -> Result<[Range<Int>], XMLRefusal> {
        do {
            try scanDocument()
            return .success(runs)
        } catch let refusal as XMLRefusal {
            return .failure(refusal)
        } catch {
            return .failure(XMLRefusal(rule: "xml.malformed", detail: "the XML pre-scan failed"))
        }
    }

    private mutating func scanDocument() throws {
        let n = bytes.count
        if n >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        while i < n {
            // Text up to the next `<`, found with memchr; only a run long enough to be
            // recorded needs its bytes classified.
            let textStart = i
            let textEnd = find(byte: UInt8(ascii: "<"), from: i) ?? n
            if textEnd > textStart {
                if find(byte: 0, from: textStart, to: textEnd) != nil {
                    i = textEnd
                    throw malformed("a NUL byte")
                }
                if textEnd - textStart >= XMLGuard.minimumRunLength, isBase64Text(textStart..<textEnd) {
                    runs.append(textStart..<textEnd)
                }
            }
            i = textEnd
            if i < n { try scanMarkup() }
        }
    }

    /// Whether every byte in `range` is base64 alphabet, `=` or whitespace.
    private func isBase64Text(_ range: Range<Int>) -> Bool {
        guard let base = bytes.baseAddress, let table = base64Text.baseAddress else { return false }
        var allowed: UInt8 = 1
        for k in range { allowed &= table[Int(base[k])] }
        return allowed == 1
    }

    /// Scans one piece of markup starting at `<`; leaves `i` just after it.
    private mutating func scanMarkup() throws {
        let start = i
        if has("<!--") {
            guard let end = find("-->", from: i + 4) else { throw malformed("an unterminated comment") }
            i = end + 3
        } else if has("<![CDATA[") {
            guard let end = find("]]>", from: i + 9) else { throw malformed("an unterminated CDATA section") }
            let content = (i + 9)..<end
            var base64 = true
            for k in content where !isBase64Byte(bytes[k]) && !isXMLSpace(bytes[k]) { base64 = false; break }
            record(content, base64: base64)
            i = end + 3
        } else if has("<!") {
            throw XMLRefusal(rule: "xml.doctype",
                             detail: "a DOCTYPE or markup declaration on line \(line(at: start)): DTDs are not allowed in agreed formats")
        } else if has("<?") {
            i += 2
            try readName(what: "processing instruction target")
            guard let end = find("?>", from: i) else { throw malformed("an unterminated processing instruction") }
            i = end + 2
        } else if has("</") {
            i += 2
            guard try readName(what: "element name") > 0 else { throw malformed("an end tag without a name") }
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw malformed("an unterminated end tag") }
            i += 1
            depth -= 1
            if depth < 0 { throw malformed("an end tag without a start tag") }
        } else {
            try scanStartTag()
        }
    }

    private mutating func scanStartTag() throws {
        i += 1
        guard try readName(what: "element name") > 0 else { throw malformed("a `<` that starts no markup") }
        var attributes = 0
        while true {
            let hadSpace = skipWhitespace()
            guard i < bytes.count else { throw malformed("an unterminated start tag") }
            switch bytes[i] {
            case UInt8(ascii: ">"):
                i += 1
                depth += 1
                if depth > limits.maxXMLDepth {
                    throw XMLRefusal(rule: "xml.depth",
                                     detail: "elements nested deeper than the limit of \(limits.maxXMLDepth) levels")
                }
                return
            case UInt8(ascii: "/"):
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") else { throw malformed("a bad empty-element tag") }
                i += 2
                return
            default:
                guard hadSpace else { throw malformed("attributes not separated by whitespace") }
                guard try readName(what: "attribute name") > 0 else { throw malformed("a bad attribute") }
                attributes += 1
                if attributes > limits.maxXMLAttributes {
                    throw XMLRefusal(rule: "xml.attributes",
                                     detail: "a start tag with more than the limit of \(limits.maxXMLAttributes) attributes")
                }
                try readAttributeValue()
            }
        }
    }

    private mutating func readAttributeValue() throws {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw malformed("an attribute without a value") }
        i += 1
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
            throw malformed("an unquoted attribute value")
        }
        let quote = bytes[i]
        let valueStart = i + 1
        guard let end = find(byte: quote, from: valueStart) else { throw malformed("an unterminated attribute value") }
        if end - valueStart > limits.maxXMLAttributeValueLength {
            throw XMLRefusal(rule: "xml.attribute-size",
                             detail: "an attribute value longer than the limit of \(limits.maxXMLAttributeValueLength) bytes")
        }
        i = end + 1
    }

    /// Reads a name (up to whitespace or a markup delimiter) and returns its length.
    @discardableResult
    private mutating func readName(what: String) throws -> Int {
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if isXMLSpace(c) || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
                || c == UInt8(ascii: "<") || c == UInt8(ascii: "?") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                break
            }
            if c == 0 { throw malformed("a NUL byte") }
            i += 1
            if i - start > limits.maxXMLNameLength {
                throw XMLRefusal(rule: "xml.name-length",
                                 detail: "an \(what) longer than the limit of \(limits.maxXMLNameLength) bytes")
            }
        }
        return i - start
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = i
        while i < bytes.count, isXMLSpace(bytes[i]) { i += 1 }
        return i > start
    }

    private mutating func record(_ range: Range<Int>, base64: Bool) {
        if base64, range.count >= XMLGuard.minimumRunLength { runs.append(range) }
    }

    private func has(_ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        return memcmp(bytes.baseAddress! + i, prefix.utf8Start, count) == 0
    }

    /// The offset of `needle` at or after `start`: `memchr` for its first byte, then a compare.
    private func find(_ needle: StaticString, from start: Int) -> Int? {
        let count = needle.utf8CodeUnitCount
        var k = start
        while let hit = find(byte: needle.utf8Start.pointee, from: k) {
            guard hit + count <= bytes.count else { return nil }
            if memcmp(bytes.baseAddress! + hit, needle.utf8Start, count) == 0 { return hit }
            k = hit + 1
        }
        return nil
    }

    private func find(byte: UInt8, from start: Int, to end: Int? = nil) -> Int? {
        let end = end ?? bytes.count
        guard start < end, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(byte), end - start) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    private func malformed(_ what: String) -> XMLRefusal {
        XMLRefusal(rule: "xml.malformed", detail: "not well-formed: line \(line(at: min(i, bytes.count))): \(what)")
    }

    /// The 1-based line of byte `offset`, counted only when a refusal needs it.
    private func line(at offset: Int) -> Int {
        var line = 1
        var k = 0
        while let newline = find(byte: 0x0A, from: k), newline < offset {
            line += 1
            k = newline + 1
        }
        return line
    }
}
