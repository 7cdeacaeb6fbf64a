import Foundation

/// Decides, from its first lines, whether data is a message a mail reader would parse.
///
/// Lines end the way Python's `email` package (and most readers) split them: CRLF, LF or a
/// bare CR, in any mix. The test is structural: an optional mbox `From ` line, then one or
/// more header fields (`Name: value`, name in RFC 5322 ftext, folded continuation lines
/// allowed), then a blank line; at least one field must be one that mail carries
/// (`MIME-Version`, any `Content-*`, `From`, `To`, `Subject`, `Date`, `Message-ID`,
/// `Received`, `Return-Path`). A header block of any length is read to its end (one pass,
/// stopping at the first line that is no header). Besides messages, a headerless multipart
/// body (what an HTTP `multipart/form-data` upload carries: a `--boundary` line, then the
/// first part's headers) counts.
enum MIMEHeaderSniffer {
    /// Field names (lowercased) that mark the header block as a mail message's; every
    /// `content-*` name counts too (a `Content-Transfer-Encoding: base64` alone is decoded).
    private static let telltales: Set<String> = [
        "mime-version", "from", "to", "subject", "date", "message-id", "received", "return-path",
    ]

    /// What the first lines say about the data.
    enum Shape: Equatable {
        /// Not a message.
        case notMessage
        /// A well-formed header block, then a blank line.
        case message
        /// Mail header fields (a telltale among them) that readers may read differently:
        /// broken by a line that is neither a header field nor a continuation, preceded by
        /// blank or continuation lines, or holding control characters. Parsed as a message
        /// and flagged.
        case malformedHeaders
        /// No header block: the first line is a multipart delimiter `--boundary`, followed by
        /// the first part's header fields.
        case headerlessMultipart(boundary: String)
    }

    /// The shape of the data and where the message GMime should parse starts.
    struct Sniff: Equatable {
        /// The shape.
        var shape: Shape
        /// Bytes before the first header field that GMime does not expect: an mbox `From `
        /// line, blank lines, continuation lines. Kept in front of a rewritten message.
        var prefixLength: Int
        /// Whether a line of the header block ends with a bare CR, which GMime does not read
        /// as a line break.
        var bareCRLineEnds: Bool
    }

    /// Whether `data` starts like a message, well-formed or not, or like a headerless multipart.
    static func looksLikeMessage(_ data: Data) -> Bool {
        sniff(data).shape != .notMessage
    }

    /// The shape of the data and where its message starts.
    static func sniff(_ data: Data) -> Sniff {
        data.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return scanner.sniff()
        }
    }

    /// The shape of the first lines.
    static func shape(of data: Data) -> Shape {
        sniff(data).shape
    }

    /// One pass over the bytes, line by line.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var bareCR = false

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        /// The line at `start`: its content's end and the next line's start; `nil` when no
        /// line break follows (the data ends inside the line).
        mutating func line(at start: Int) -> (end: Int, next: Int)? {
            var k = start
            while k < bytes.count {
                let byte = bytes[k]
                if byte == 0x0A { return (k, k + 1) }
                if byte == 0x0D {
                    if k + 1 < bytes.count, bytes[k + 1] == 0x0A { return (k, k + 2) }
                    bareCR = true
                    return (k, k + 1)
                }
                k += 1
            }
            return nil
        }

        mutating func sniff() -> Sniff {
            var index = 0
            if bytes.starts(with: Array("From ".utf8)), let from = line(at: 0) { index = from.next }
            if let boundary = headerlessBoundary(at: index) {
                return Sniff(shape: .headerlessMultipart(boundary: boundary), prefixLength: 0, bareCRLineEnds: bareCR)
            }
            // Blank and continuation lines before the first field: Python's `email` skips them
            // (or takes everything for a body); either way readers disagree.
            var oddStart = false
            var onlyBlankLines = true
            while index < bytes.count, let current = line(at: index),
                  current.end == index || bytes[index] == 0x20 || bytes[index] == 0x09 {
                oddStart = true
                onlyBlankLines = onlyBlankLines && current.end == index
                index = current.next
            }
            // Form parsers skip blank lines before the first delimiter (a preamble); so does GMime.
            if oddStart, onlyBlankLines, let boundary = headerlessBoundary(at: index) {
                return Sniff(shape: .headerlessMultipart(boundary: boundary), prefixLength: 0, bareCRLineEnds: bareCR)
            }
            let prefix = index
            guard index < bytes.count, bytes[index] != UInt8(ascii: "<") else { return notMessage }
            var fields = 0
            var sawTelltale = false
            var malformed = oddStart
            while index < bytes.count {
                let start = index
                guard let current = line(at: start) else {
                    return notMessage  // the data ends inside the header block: there is no body to read
                }
                index = current.next
                if current.end == start {  // the blank line
                    guard fields > 0, sawTelltale else { return notMessage }
                    return Sniff(shape: malformed ? .malformedHeaders : .message, prefixLength: prefix, bareCRLineEnds: bareCR)
                }
                if bytes[start] == 0x20 || bytes[start] == 0x09 { continue }  // a continuation
                guard let nameEnd = fieldNameEnd(start, current.end) else {
                    guard fields >= 1, sawTelltale else { return notMessage }
                    return Sniff(shape: .malformedHeaders, prefixLength: prefix, bareCRLineEnds: bareCR)
                }
                // Header lines hold no control characters but TAB; readers cut or keep them differently.
                if hasControl(start, current.end) {
                    guard fields >= 1 || isTelltale(start, nameEnd) else { return notMessage }
                    malformed = true
                }
                fields += 1
                if !sawTelltale { sawTelltale = isTelltale(start, nameEnd) }
            }
            return notMessage
        }

        private var notMessage: Sniff { Sniff(shape: .notMessage, prefixLength: 0, bareCRLineEnds: false) }

        /// The boundary of a body that starts with a delimiter line (`--` and an RFC 2046
        /// boundary, trailing whitespace allowed) followed by a header field line.
        mutating func headerlessBoundary(at start: Int) -> String? {
            guard start + 2 < bytes.count, bytes[start] == 0x2D, bytes[start + 1] == 0x2D,
                  let first = line(at: start) else { return nil }
            var end = first.end
            while end > start + 2, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            let length = end - start - 2
            // RFC 2046 allows 70 characters; readers take longer ones too.
            guard (1...200).contains(length),
                  (start + 2..<end).allSatisfy({ Self.isBoundaryCharacter(bytes[$0]) }),
                  let header = line(at: first.next), header.end > first.next,
                  fieldNameEnd(first.next, header.end) != nil else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 2)..<end]), as: UTF8.self)
        }

        /// RFC 2046 `bchars`.
        static func isBoundaryCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return true
            default:
                return Array("'()+_,-./:=? ".utf8).contains(byte)
            }
        }

        /// The end of the field name of the line `start..<end` (`Name:` or obsolete `Name :`), or `nil`.
        func fieldNameEnd(_ start: Int, _ end: Int) -> Int? {
            var cursor = start
            // RFC 5322 ftext: printable US-ASCII except the colon.
            while cursor < end, (33...126).contains(bytes[cursor]), bytes[cursor] != UInt8(ascii: ":") { cursor += 1 }
            let nameEnd = cursor
            guard nameEnd > start else { return nil }
            while cursor < end, bytes[cursor] == 0x20 || bytes[cursor] == 0x09 { cursor += 1 }
            guard cursor < end, bytes[cursor] == UInt8(ascii: ":") else { return nil }
            return nameEnd
        }

        func hasControl(_ start: Int, _ end: Int) -> Bool {
            (start..<end).contains { (bytes[$0] < 0x20 && bytes[$0] != 0x09) || bytes[$0] == 0x7F }
        }

        func isTelltale(_ start: Int, _ end: Int) -> Bool {
            // Compared as lowercased ASCII bytes: no string is made per header line.
            let name = UnsafeBufferPointer(rebasing: bytes[start..<end])
            let lower = { (k: Int) -> UInt8 in (65...90).contains(name[k]) ? name[k] | 0x20 : name[k] }
            let equals = { (word: [UInt8]) -> Bool in word.count <= name.count && word.indices.allSatisfy { lower($0) == word[$0] } }
            return equals(MIMEHeaderSniffer.contentPrefix) || MIMEHeaderSniffer.telltaleBytes.contains { $0.count == name.count && equals($0) }
        }
    }

    private static let contentPrefix = Array("content-".utf8)
    private static let telltaleBytes = telltales.map { Array($0.utf8) }
}
