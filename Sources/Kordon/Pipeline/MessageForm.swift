import Foundation
import KordonCore
import KordonMIME

/// The three forms a message can take; each is checked differently.
public enum MessageForm: String, Sendable {
    /// An XML document: validated against its agreed schema, base64 payloads scanned.
    case xml
    /// An RFC 5322 message (or a headerless multipart body): every MIME part decoded and
    /// checked, the whole scanned too.
    case mime
    /// Anything else: scanned by ClamAV, which unpacks archives and documents itself.
    case opaque

    /// Decides the form from the content, never from a name or a label.
    ///
    /// XML is what ``XMLSniffer`` recognises in any encoding form a reader detects:
    /// UTF-8 (with or without a byte order mark), UTF-16 and UTF-32 in either byte order,
    /// UCS-4 in the unusual orders, EBCDIC by its declaration, and a declaration behind
    /// NULs or a stray byte order mark. The XML stage reads what libxml2 reads and
    /// refuses the rest, so XML in an encoding Kordon cannot check is held, never passed
    /// as an opaque file. Empty or blank input counts as XML so that the XML stage refuses
    /// it with a clear finding: no agreed exchange format is empty. MIME is what a mail
    /// reader would parse as a message (see ``MIMEMessageParser/looksLikeMIME(_:)``).
    public static func detect(_ data: Data) -> MessageForm {
        if XMLSniffer.isBlank(data) || XMLSniffer.sniff(data) != nil { return .xml }
        if MIMEMessageParser.looksLikeMIME(data) { return .mime }
        return .opaque
    }
}
