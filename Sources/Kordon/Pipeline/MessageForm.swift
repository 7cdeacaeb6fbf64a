import Foundation
import KordonMIME

/// The three forms a message can take; each is checked differently.
public enum MessageForm: String, Sendable {
    /// An XML document: validated against its agreed schema, base64 payloads scanned.
    case xml
    /// An RFC 5322 message: every MIME part decoded and checked, the whole scanned too.
    case mime
    /// Anything else: scanned by ClamAV, which unpacks archives and documents itself.
    case opaque

    /// Decides the form from the first bytes.
    ///
    /// XML is recognised by its first significant character being `<` (after a
    /// UTF-8 BOM and whitespace) or by a UTF-16 byte-order mark or `<` encoded in
    /// UTF-16. Empty input counts as XML so that the XML stage refuses it with a
    /// clear finding: no agreed exchange format is empty.
    public static func detect(_ data: Data) -> MessageForm {
        if data.isEmpty { return .xml }
        let head = [UInt8](data.prefix(4))
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) { return .xml }
        if head.count >= 2, (head[0] == 0x3C && head[1] == 0x00) || (head[0] == 0x00 && head[1] == 0x3C) { return .xml }
        var index = data.startIndex
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
        while index < data.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(data[index]) { index += 1 }
        if index == data.endIndex { return .xml }
        if data[index] == UInt8(ascii: "<") { return .xml }
        if MIMEMessageParser.looksLikeMIME(data) { return .mime }
        return .opaque
    }
}
