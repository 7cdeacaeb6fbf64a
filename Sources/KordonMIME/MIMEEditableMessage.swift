import Foundation
import KordonCore

/// A parsed MIME message that the redaction stage can edit and write back.
///
/// Parsed with GMime under the same limits as ``MIMEMessageParser``, by the same tree
/// walk, so part paths are the same as that parser's: `mime/2/1` names the same part in
/// both. Not thread-safe, one per message.
///
/// ## Text
/// ``text(at:)`` is always valid UTF-8. Headers are unfolded and RFC 2047-decoded by
/// ``RFC2047`` (GMime 3.2.13's decoder loses encoded-words after a padded one). Bodies
/// are transfer-decoded and converted from their declared charset by GMime's iconv
/// filter (bytes invalid in that charset are skipped). A UTF-8 body is read as is, with
/// invalid sequences as U+FFFD; a body with no charset or ASCII is read as UTF-8 when it
/// is valid UTF-8 and as windows-1251 otherwise (the region's legacy code page); a body
/// whose charset iconv does not know is taken as its raw bytes, invalid UTF-8 as U+FFFD.
///
/// ## Writing back
/// ``serialize()`` writes the message with GMime, using the line breaks the message came
/// with. Parts and fields nobody changed are copied as parsed; a changed header is
/// RFC 2047-encoded and folded again by GMime (its folding may differ from the
/// sender's); a changed `Content-Type` (a body's new `charset=utf-8`) is written back in
/// GMime's form. The output is parsed again before it is returned and must have the same
/// parts and no new findings, or ``serialize()`` throws.
public final class MIMEEditableMessage {
    private let original: Data
    /// How the received bytes became what GMime parsed (an mbox `From ` line left out,
    /// bare CRs read as CRLF, a synthetic header for a headerless multipart); the output is
    /// put back the same way.
    private let input: MIMEInput
    private let document: GMimeDocument
    private let crlf: Bool
    private let limits: Limits
    private let sites: [MIMETextSite]
    private let locations: [MIMETextSite: MIMESiteLocation]
    private let leaves: [PartPath: GMimeEntity]
    private let embeddedDocuments: [MIMEEmbeddedDocument]
    /// The paths of the original's leaves, as the parser reports them.
    private let originalLeafPaths: [PartPath]
    /// Documents (the message, or one parsed out of an encoded message part) changed so far.
    private var modifiedDocuments: Set<ObjectIdentifier> = []

    /// Parses `data`. Throws a ``KordonError`` (`mime.*`) when GMime cannot parse it, when
    /// it is larger than ``Limits/maxMessageSize``, or when it has more parts or deeper
    /// nesting than the limits allow (its text sites could not all be listed).
    ///
    /// Other problems ``MIMEMessageParser`` reports (invalid base64, encryption) do not
    /// throw: the parser's findings already decide about such a message.
    public init(parsing data: Data, limits: Limits) throws {
        guard data.count <= limits.maxMessageSize else {
            throw KordonError(code: "mime.too-large",
                              message: "the message is larger than maxMessageSize (\(limits.maxMessageSize) bytes); it cannot be edited")
        }
        let input = MIMEInput(data)
        let message = input.message
        guard let document = GMimeDocument(bytes: message) else {
            throw KordonError(code: "mime.unparsable", message: "GMime could not construct a message; it cannot be edited")
        }
        let collector = MIMESiteCollector()
        var walker = MIMETreeWalker(limits: limits, visitor: collector)
        walker.walk(document)
        let findings = walker.result.findings
        if let stop = findings.first(where: { $0.rule == "mime.limit" || $0.rule == "mime.unparsable" }) {
            throw KordonError(code: KordonError.Code(rawValue: stop.rule), message: "the message cannot be edited: \(stop.detail) at \(stop.part)")
        }
        self.original = data
        self.input = input
        self.document = document
        self.crlf = MIMELineBreaks.usesCRLF(message)
        self.limits = limits
        self.sites = collector.sites
        self.locations = collector.locations
        self.leaves = collector.leaves
        self.embeddedDocuments = collector.embeddedDocuments
        self.originalLeafPaths = walker.result.leaves.map(\.part.path)
    }

    /// Every text-holding place: unstructured headers of the message and of every part
    /// and embedded message, and the bodies of text-like leaves (not XML leaves: the
    /// XML stage edits those through ``replaceBody(of:with:)``), in message order.
    public var textSites: [MIMETextSite] { sites }

    /// The UTF-8 text at a site (the current text, after any edit); empty for a site
    /// that is not one of ``textSites``.
    public func text(at site: MIMETextSite) -> [UInt8] {
        switch locations[site] {
        case .header(let entity, let index)?:
            let fields = entity.headerFields
            return index < fields.count ? Array(RFC2047.decode(fields[index].rawValue).utf8) : []
        case .body(let entity)?:
            let raw = entity.decodedContent() ?? entity.encodedContent() ?? Data()
            return GMimeCharsetConverter.utf8Text(raw, declaredCharset: entity.contentTypeParameter("charset"))
        case .face(let multipart, let isPreamble)?:
            let raw = (isPreamble ? multipart.prologue : multipart.epilogue) ?? Data()
            return Array(String(decoding: raw, as: UTF8.self).utf8)
        case nil:
            return []
        }
    }

    /// Replaces the text at a site (a header is RFC 2047-encoded as needed; a body keeps
    /// its transfer encoding and is written in UTF-8 with `charset=utf-8`).
    ///
    /// A body sent as 7bit, 8bit, binary or without an encoding becomes quoted-printable
    /// when the new text is not 7-bit safe. Line breaks and NUL in a header's new text
    /// become spaces, and GMime trims it. A preamble or epilogue is written as UTF-8 as it
    /// is. Setting the text a site already has changes nothing.
    ///
    /// - Throws: `mime.edit-unknown-site` for a site not in ``textSites``,
    ///   `mime.edit-invalid-text` when `text` is not UTF-8, `mime.edit-failed` when GMime
    ///   refuses the change.
    public func setText(at site: MIMETextSite, to text: [UInt8]) throws {
        guard let location = locations[site] else {
            throw KordonError(code: "mime.edit-unknown-site", message: "no text site \(site.part) in this message; take sites from textSites")
        }
        guard let string = String(bytes: text, encoding: .utf8) else {
            throw KordonError(code: "mime.edit-invalid-text", message: "the new text for \(site.part) is not valid UTF-8")
        }
        guard text != self.text(at: site) else { return }
        let changed: Bool
        switch location {
        case .header(let entity, let index):
            let flat = String(string.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" || $0 == "\0" ? " " : $0 })
            changed = entity.setHeaderValue(at: index, to: flat)
            if changed { modifiedDocuments.insert(ObjectIdentifier(entity.owner)) }
        case .body(let entity):
            try write(Data(text), into: entity)
            entity.setContentTypeParameter("charset", to: "utf-8")
            changed = true
        case .face(let multipart, let isPreamble):
            changed = multipart.setFace(string.replacingOccurrences(of: "\0", with: " "), preamble: isPreamble)
            if changed { modifiedDocuments.insert(ObjectIdentifier(multipart.owner)) }
        }
        guard changed else {
            throw KordonError(code: "mime.edit-failed", message: "GMime could not change the text at \(site.part)")
        }
    }

    /// Replaces the decoded content of a leaf (a sanitized XML part) keeping its headers
    /// and transfer encoding (a 7bit/8bit leaf becomes quoted-printable when `data` is not
    /// 7-bit safe). The charset parameter is left alone: XML declares its own encoding.
    ///
    /// - Throws: `mime.edit-unknown-part` when `part` is not a leaf ``MIMEMessageParser``
    ///   delivers (preambles and epilogues are edited through ``setText(at:to:)``).
    public func replaceBody(of part: PartPath, with data: Data) throws {
        guard let entity = leaves[part] else {
            throw KordonError(code: "mime.edit-unknown-part", message: "no leaf \(part) in this message to replace")
        }
        try write(data, into: entity)
    }

    /// Whether anything was changed since parsing.
    public var isModified: Bool { !modifiedDocuments.isEmpty }

    /// The message written back: the bytes as received when nothing was changed,
    /// otherwise the message written by GMime (see the type's documentation).
    ///
    /// - Throws: `mime.edit-failed` when GMime cannot write it; `mime.edit-structure` when
    ///   the written message does not parse into the same parts, or gains findings, for
    ///   example because new text contains a boundary line. Quarantine the message then.
    public func serialize() throws -> Data {
        guard isModified else { return original }
        // Innermost first, so that an edit deep down reaches every enclosing message.
        for embedded in embeddedDocuments.reversed() where modifiedDocuments.contains(ObjectIdentifier(embedded.document)) {
            guard let bytes = embedded.document.write(crlf: embedded.crlf) else {
                throw KordonError(code: "mime.edit-failed", message: "GMime could not write an attached message")
            }
            try write(bytes, into: embedded.leaf)
        }
        guard let written = document.write(crlf: crlf) else {
            throw KordonError(code: "mime.edit-failed", message: "GMime could not write the edited message")
        }
        let output = input.output(fromWritten: written)
        try verify(output)
        return output
    }

    // MARK: - Private

    /// Puts `data` into a leaf, switching its transfer encoding where needed.
    private func write(_ data: Data, into entity: GMimeEntity) throws {
        if let encoding = MIMEBodyEncoding.replacement(for: entity.transferEncoding, content: data) {
            guard entity.setTransferEncoding(encoding) else {
                throw KordonError(code: "mime.edit-failed", message: "GMime could not change a part's transfer encoding")
            }
        }
        guard entity.replaceContent(with: data) else {
            throw KordonError(code: "mime.edit-failed", message: "GMime could not replace a part's content")
        }
        modifiedDocuments.insert(ObjectIdentifier(entity.owner))
    }

    /// Parses the output again: same leaves, no finding the original did not have.
    private func verify(_ output: Data) throws {
        let reparsed = MIMEMessageParser(limits: limits).parse(output)
        guard reparsed.leaves.map(\.part.path) == originalLeafPaths else {
            throw KordonError(code: "mime.edit-structure",
                              message: "the edited message no longer has the same parts (new text may contain a boundary line); it was not written")
        }
        // Parsed again only here, so that reading sites costs one parse.
        let originalFindings = Set(MIMEMessageParser(limits: limits).parse(original).findings.map(Self.key))
        let added = reparsed.findings.map(Self.key).filter { !originalFindings.contains($0) }
        guard added.isEmpty else {
            throw KordonError(code: "mime.edit-structure",
                              message: "the edited message has new MIME findings (\(added.joined(separator: ", "))); it was not written")
        }
    }

    /// A finding's rule and place, which is all that is compared.
    private static func key(_ finding: Finding) -> String {
        "\(finding.rule)@\(finding.part)"
    }
}
