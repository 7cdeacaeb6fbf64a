import Foundation

/// Decides, from the first bytes alone, whether data is an RFC 5322 message.
///
/// The test is structural: an optional mbox `From ` line, then one or more header
/// fields (`Name: value`, name in RFC 5322 ftext, folded continuation lines
/// allowed), then a blank line; and at least one field must be one that mail
/// carries (`MIME-Version`, `Content-Type`, `From`, `To`, `Subject`, `Date`,
/// `Message-ID`, `Received`, `Return-Path`). One pass over at most 64 KB.
enum MIMEHeaderSniffer {
    /// How much of the data is looked at.
    static let window = 64 * 1024

    /// Field names (lowercased) that mark the header block as a mail message's.
    private static let telltales: Set<String> = [
        "mime-version", "content-type", "from", "to", "subject", "date", "message-id", "received", "return-path",
    ]

    /// What the first bytes say about the data.
    enum Shape: Equatable {
        /// Not a message.
        case notMessage
        /// A well-formed header block, then a blank line.
        case message
        /// Mail header fields (a telltale among them), then a line that is neither a
        /// header field nor a continuation: readers disagree on where the headers end,
        /// so it is parsed as a message and flagged.
        case malformedHeaders
    }

    /// Whether `data` starts like an RFC 5322 message, well-formed or not.
    static func looksLikeMessage(_ data: Data) -> Bool {
        shape(of: data) != .notMessage
    }

    /// The shape of the first bytes.
    static func shape(of data: Data) -> Shape {
        data.prefix(window).withUnsafeBytes { scan(Array($0.bindMemory(to: UInt8.self))) }
    }

    /// Length of a leading mbox `From ` line, newline included; 0 when there is none.
    ///
    /// GMime in message mode does not expect that line, so the parser skips it.
    static func mboxFromLineLength(_ data: Data) -> Int {
        guard data.starts(with: Array("From ".utf8)) else { return 0 }
        let limit = data.index(data.startIndex, offsetBy: min(data.count, window))
        guard let newline = data[data.startIndex..<limit].firstIndex(of: UInt8(ascii: "\n")) else { return 0 }
        return data.distance(from: data.startIndex, to: newline) + 1
    }

    private static func scan(_ bytes: [UInt8]) -> Shape {
        let data = Data(bytes)
        var index = mboxFromLineLength(data)
        guard index < bytes.count, bytes[index] != UInt8(ascii: "<") else { return .notMessage }
        var fields = 0
        var sawTelltale = false
        while index < bytes.count {
            let start = index
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                return .notMessage  // the header block does not end inside the window
            }
            index = newline + 1
            var end = newline
            if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if end == start { return fields > 0 && sawTelltale ? .message : .notMessage }  // the blank line
            let line = bytes[start..<end]
            // Header lines hold no control characters but TAB; this rejects binary early.
            if line.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                return fields >= 2 && sawTelltale ? .malformedHeaders : .notMessage
            }
            if line.first == UInt8(ascii: " ") || line.first == 0x09 {
                if fields == 0 { return .notMessage }  // a continuation needs a field to continue
                continue
            }
            guard let name = fieldName(line) else {
                return fields >= 1 && sawTelltale ? .malformedHeaders : .notMessage
            }
            fields += 1
            if !sawTelltale, name.count <= 12 {
                sawTelltale = telltales.contains(String(decoding: name, as: UTF8.self).lowercased())
            }
        }
        return .notMessage
    }

    /// The field name of a header line (`Name:` or obsolete `Name :`), or `nil`.
    private static func fieldName(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var cursor = line.startIndex
        // RFC 5322 ftext: printable US-ASCII except the colon.
        while cursor < line.endIndex, (33...126).contains(line[cursor]), line[cursor] != UInt8(ascii: ":") {
            cursor += 1
        }
        let name = line[line.startIndex..<cursor]
        guard !name.isEmpty else { return nil }
        while cursor < line.endIndex, line[cursor] == UInt8(ascii: " ") || line[cursor] == 0x09 { cursor += 1 }
        guard cursor < line.endIndex, line[cursor] == UInt8(ascii: ":") else { return nil }
        return name
    }
}
