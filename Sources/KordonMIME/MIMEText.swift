import Foundation
import KordonCore

/// Small byte and string rules shared by the MIME stage: identifiers, XML sniffing.
enum MIMEText {
    /// A Content-ID or `start` parameter without surrounding whitespace and angle brackets.
    static func unbracketed(_ id: String) -> String {
        var text = Substring(id.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("<") { text = text.dropFirst() }
        if text.hasSuffix(">") { text = text.dropLast() }
        return String(text)
    }

    /// What a leaf is, by its label and by its content.
    enum PartForm: Equatable {
        /// Not an XML document.
        case notXML
        /// An XML document, labelled so (by type or `.xml` file name) or by a generic label
        /// (`application/octet-stream`, `text/plain`, none) that says nothing.
        case xml
        /// An XML document by content under a label that names another type (`application/pdf`).
        case xmlDespiteLabel
    }

    /// Labels that say nothing about a part's content.
    private static let genericTypes: Set<String> = ["application/octet-stream", "text/plain", "binary/octet-stream", "application/unknown", ""]

    /// Whether a leaf is an XML document, to be inspected as XML, and whether its label lies.
    ///
    /// By type (`text/xml`, `application/xml`, `*/*+xml`, `application/xop+xml`) or a `.xml`
    /// file name; otherwise by content, whatever the label (``XMLSniffer/isXMLDocument(_:)``:
    /// any encoding a reader detects, opening with a declaration or ending with `>`). HTML
    /// (`text/html`) is XML only with an XML declaration and no `<html` element in its first
    /// kilobyte: HTML mail bodies are not documents of an agreed format; `text/plain` only
    /// with a declaration or a namespace declaration in its first kilobyte.
    static func form(mediaType: String, filename: String?, body: Data) -> PartForm {
        if mediaType == "text/xml" || mediaType == "application/xml" || mediaType.hasSuffix("+xml") {
            return .xml
        }
        if let filename, filename.lowercased().hasSuffix(".xml") { return .xml }
        guard XMLSniffer.isXMLDocument(body) else { return .notXML }
        if mediaType == "text/html" {
            guard XMLSniffer.sniff(body)?.hasDeclaration == true,
                  body.prefix(1024).range(of: Data("<html".utf8)) == nil,
                  body.prefix(1024).range(of: Data("<HTML".utf8)) == nil else { return .notXML }
        }
        // A plain-text body that opens with a tag (`<p>Hello</p>`, `<note>`) is text to a mail
        // reader; it is a document only with a declaration or a namespace, as every agreed
        // format has. Base64 inside a text body is decoded and scanned either way.
        if mediaType == "text/plain", XMLSniffer.sniff(body)?.hasDeclaration != true,
           body.prefix(1024).range(of: Data("xmlns".utf8)) == nil {
            return .notXML
        }
        return genericTypes.contains(mediaType) ? .xml : .xmlDespiteLabel
    }

    /// Whether a leaf is an XML document (see ``form(mediaType:filename:body:)``).
    static func isXML(mediaType: String, filename: String?, body: Data) -> Bool {
        form(mediaType: mediaType, filename: filename, body: body) != .notXML
    }

    /// Whether `body` begins with an XML declaration, in any encoding a reader detects.
    static func startsWithXMLDeclaration(_ body: Data) -> Bool {
        XMLSniffer.sniff(body)?.hasDeclaration == true
    }
}
