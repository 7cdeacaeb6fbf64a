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
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self), limits: limits)
            return scanner.run()
        }
    }
}

/// Byte classes used by the scanner: 1 = base64 alphabet or `=`, 2 = XML whitespace.
private let byteClass: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 256)
    for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(c)] = 1 }
    for c in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(c)] = 1 }
    for c in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(c)] = 1 }
    for c in [UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "=")] { table[Int(c)] = 1 }
    for c in [UInt8(0x20), 0x09, 0x0A, 0x0D] { table[Int(c)] = 2 }
    return table
}()

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: Limits
    var i = 0
    var depth = 0
    var runs: [Range<Int>] = []

    init(bytes: UnsafeBufferPointer<UInt8>, limits: Limits) {
        self.bytes = bytes
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
        var textStart = i
        var textIsBase64 = true
        while i < n {
            let c = bytes[i]
            if c != UInt8(ascii: "<") {
                if c == 0 { throw malformed("a NUL byte") }
                if byteClass[Int(c)] == 0 { textIsBase64 = false }
                i += 1
                continue
            }
            record(textStart..<i, base64: textIsBase64)
            try scanMarkup()
            textStart = i
            textIsBase64 = true
        }
        record(textStart..<n, base64: textIsBase64)
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
            for k in content where byteClass[Int(bytes[k])] == 0 { base64 = false; break }
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
            if byteClass[Int(c)] == 2 || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
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
        while i < bytes.count, byteClass[Int(bytes[i])] == 2 { i += 1 }
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

    private func find(byte: UInt8, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
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
