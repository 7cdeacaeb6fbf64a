import Foundation

/// Small byte and string rules shared by the MIME stage: identifiers, XML sniffing.
enum MIMEText {
    /// A Content-ID or `start` parameter without surrounding whitespace and angle brackets.
    static func unbracketed(_ id: String) -> String {
        var text = Substring(id.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("<") { text = text.dropFirst() }
        if text.hasSuffix(">") { text = text.dropLast() }
        return String(text)
    }

    /// Whether a leaf is an XML document, to be inspected as XML.
    ///
    /// By type (`text/xml`, `application/xml`, `*/*+xml`, `application/xop+xml`), by a
    /// `.xml` file name, or, for the generic types senders use when they do not know
    /// better (`application/octet-stream`, `text/plain`), by an XML declaration.
    static func isXML(mediaType: String, filename: String?, body: Data) -> Bool {
        if mediaType == "text/xml" || mediaType == "application/xml" || mediaType.hasSuffix("+xml") {
            return true
        }
        if let filename, filename.lowercased().hasSuffix(".xml") { return true }
        if mediaType == "application/octet-stream" || mediaType == "text/plain" {
            return startsWithXMLDeclaration(body)
        }
        return false
    }

    /// Whether `body` begins with `<?xml`, after an optional byte-order mark and whitespace.
    /// UTF-8 and UTF-16 (either byte order) are recognized.
    static func startsWithXMLDeclaration(_ body: Data) -> Bool {
        let head = Array(body.prefix(1024))
        if head.starts(with: [0xFF, 0xFE]) { return startsWithDeclaration(utf16: head.dropFirst(2), littleEndian: true) }
        if head.starts(with: [0xFE, 0xFF]) { return startsWithDeclaration(utf16: head.dropFirst(2), littleEndian: false) }
        let text = head.starts(with: [0xEF, 0xBB, 0xBF]) ? head.dropFirst(3) : head[...]
        return text.drop(while: isXMLSpace).starts(with: Array("<?xml".utf8))
    }

    private static func startsWithDeclaration(utf16 bytes: ArraySlice<UInt8>, littleEndian: Bool) -> Bool {
        var units: [UInt8] = []
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            let (low, high) = littleEndian ? (bytes[index], bytes[index + 1]) : (bytes[index + 1], bytes[index])
            guard high == 0 else { break }
            units.append(low)
            index += 2
        }
        return units.drop(while: isXMLSpace).starts(with: Array("<?xml".utf8))
    }

    private static func isXMLSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
