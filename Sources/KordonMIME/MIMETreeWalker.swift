import Foundation
import KordonCore

/// Walks a parsed message depth first and turns it into leaves and findings.
///
/// ## Part paths
///
/// Parts are numbered from 1 like IMAP part specifiers (RFC 3501 6.4.5) and
/// rendered with ``PartPath/mime(_:)``:
///
/// - a message whose body is not a multipart has one leaf, `mime/1`;
/// - the children of the top multipart are `mime/1`, `mime/2`, ...;
/// - the children of a multipart at `mime/2` are `mime/2/1`, `mime/2/2`, ...;
/// - a message/rfc822 part at `mime/3` takes the place of its message: its body is
///   `mime/3/1` when that is a single part, and when it is a multipart, that
///   multipart's children are `mime/3/1`, `mime/3/2`, ...
///
/// A multipart's preamble and epilogue (text outside its boundaries, where a
/// missing boundary can also leave content) are delivered as leaves too when they
/// hold anything but whitespace: `mime/2/preamble`, `mime/2/epilogue`
/// (`mime/preamble` for the top multipart).
///
/// A ``MIMETreeVisitor`` sees the same walk, so that ``MIMEEditableMessage`` numbers
/// parts exactly as ``MIMEMessageParser`` does.
struct MIMETreeWalker {
    private let limits: Limits
    private let visitor: MIMETreeVisitor?
    private(set) var result = MIMEParseResult()
    /// The boundary of every multipart walked.
    private(set) var boundaries: Set<String> = []
    /// Whether a header value holds a bare CR (one not followed by LF): a reader that takes
    /// it for a line break sees other header fields than GMime does.
    private(set) var sawBareCRInHeaders = false
    private var entityCount = 0
    private var limitReported = false
    private var reportedNotices: [GMimeParserNotice] = []

    init(limits: Limits, visitor: MIMETreeVisitor? = nil) {
        self.limits = limits
        self.visitor = visitor
    }

    /// Walks the whole document.
    mutating func walk(_ document: GMimeDocument) {
        for notice in document.notices { report(notice) }
        if let headers = document.headerEntity {
            noteBareCR(in: headers)
            visitor?.visitMessageHeaders(headers, at: [], mediaType: "message/rfc822")
        }
        guard let body = document.body else {
            add(.unchecked, "mime.unparsable", .message, "GMime found no body in the message")
            return
        }
        walkBody(of: body, under: [], depth: 0)
    }

    /// Media types whose content is a whole message.
    private static let messageTypes: Set<String> = ["message/rfc822", "message/global", "message/news"]

    private mutating func walkEmbedded(_ document: GMimeDocument, in leaf: GMimeEntity, under path: [Int], depth: Int) {
        for notice in document.notices { report(notice) }
        visitor?.visitEmbeddedDocument(document, in: leaf, at: path)
        if let headers = document.headerEntity {
            noteBareCR(in: headers)
            visitor?.visitMessageHeaders(headers, at: path, mediaType: leaf.mediaType)
        }
        guard let body = document.body else {
            add(.unchecked, "mime.unparsable", Self.findingPath(path), "an attached message has no body")
            return
        }
        walkBody(of: body, under: path, depth: depth)
    }

    /// A message body: a multipart's children are numbered under `path`, a single part is `path/1`.
    private mutating func walkBody(of body: GMimeEntity, under path: [Int], depth: Int) {
        if case .multipart = body.kind {
            walk(body, at: path, depth: depth, isXOPRoot: false)
        } else {
            walk(body, at: path + [1], depth: depth, isXOPRoot: false)
        }
    }

    private mutating func walk(_ entity: GMimeEntity, at path: [Int], depth: Int, isXOPRoot: Bool) {
        guard !limitReported else { return }
        entityCount += 1
        if entityCount > limits.maxMIMEParts {
            reportLimit(at: path, "more than \(limits.maxMIMEParts) MIME parts")
            return
        }
        if depth > limits.maxMIMEDepth {
            reportLimit(at: path, "MIME nesting deeper than \(limits.maxMIMEDepth)")
            return
        }
        visitor?.visitEntity(entity, at: path)
        noteBareCR(in: entity)
        if entity.isEncrypted {
            add(.unchecked, "mime.encrypted", Self.findingPath(path), "encrypted content (\(entity.mediaType)) cannot be checked")
        }
        if entity.isContainer, let encoding = entity.header("Content-Transfer-Encoding"),
           !["7bit", "8bit", "binary"].contains(encoding.trimmingCharacters(in: .whitespaces).lowercased()) {
            // RFC 2046 forbids encoding a multipart or message/rfc822; some readers decode it
            // anyway and GMime does not, so the two would see different content.
            add(.unchecked, "mime.encoded-container", Self.findingPath(path),
                "a \(entity.mediaType) with a Content-Transfer-Encoding other than 7bit/8bit/binary")
        }
        switch entity.kind {
        case .multipart(let count):
            if let boundary = entity.contentTypeParameter("boundary") { boundaries.insert(boundary) }
            deliverFace(entity.prologue, of: entity, at: path, named: "preamble")
            let root = xopRootIndex(of: entity, childCount: count)
            for index in 0..<count {
                guard let child = entity.child(at: index) else { continue }
                walk(child, at: path + [index + 1], depth: depth + 1, isXOPRoot: index == root)
            }
            deliverFace(entity.epilogue, of: entity, at: path, named: "epilogue")
        case .messagePart:
            if let headers = entity.embeddedMessage {
                noteBareCR(in: headers)
                visitor?.visitMessageHeaders(headers, at: path, mediaType: entity.mediaType)
            }
            if let body = entity.embeddedBody {
                walkBody(of: body, under: path, depth: depth + 1)
            } else {
                add(.unchecked, "mime.unparsable", Self.findingPath(path), "an attached message has no body")
            }
        case .leaf:
            checkTransferEncoding(of: entity, at: PartPath.message.mime(path))
            if Self.messageTypes.contains(entity.mediaType), !entity.isMessagePartial,
               let decoded = entity.decodedContent(), let inner = embeddedMessage(decoded, at: path) {
                // GMime keeps a transfer-encoded message/rfc822 as a leaf (RFC 2046 forbids the
                // encoding, readers decode it anyway): parse the decoded message and walk it in place.
                walkEmbedded(inner, in: entity, under: path, depth: depth + 1)
            } else {
                deliverLeaf(entity, at: path, isXOPRoot: isXOPRoot)
                // A message sent as a file (an .eml labelled application/octet-stream): a mail reader
                // opens it as mail, so it is also walked like message/rfc822, under the part's path.
                // Text parts are left alone: a body quoting headers is still text.
                if !entity.mediaType.hasPrefix("text/"), !entity.isMessagePartial, let content = result.leaves.last?.part.data,
                   MIMEHeaderSniffer.looksLikeMessage(content), let inner = embeddedMessage(content, at: path) {
                    walkEmbedded(inner, in: entity, under: path, depth: depth + 1)
                }
            }
        case .other:
            add(.unchecked, "mime.unparsable", Self.findingPath(path), "a MIME entity of an unknown kind")
        }
    }

    /// A message inside a part, prepared for GMime the way a whole message is (see ``MIMEInput``);
    /// a header block readers disagree on is flagged at the part.
    private mutating func embeddedMessage(_ content: Data, at path: [Int]) -> GMimeDocument? {
        let input = MIMEInput(content)
        if input.sniff.shape == .malformedHeaders {
            add(.unchecked, "mime.malformed-header", Self.findingPath(path),
                "a header line of an attached message is not a valid header field; MIME readers disagree on where its headers end")
        }
        return GMimeDocument(bytes: input.message)
    }

    private mutating func deliverLeaf(_ entity: GMimeEntity, at path: [Int], isXOPRoot: Bool) {
        let partPath = PartPath.message.mime(path)
        let mediaType = entity.mediaType
        if entity.isMessagePartial {
            add(.unchecked, "mime.partial", partPath, "a message/partial fragment cannot be checked whole")
        }
        var body = entity.decodedContent()
        if body == nil {
            add(.unchecked, "mime.undecodable", partPath, "the body could not be decoded; scanned as encoded")
            body = entity.encodedContent()
        }
        let data = body ?? Data()
        let filename = entity.filename
        let part = ExtractedPart(path: partPath, data: data, contentType: mediaType, filename: filename)
        let form = MIMEText.form(mediaType: mediaType, filename: filename, body: data)
        if form == .xmlDespiteLabel {
            result.findings.append(Finding(stage: .policy, rule: "mime.type-mismatch", part: partPath, action: .report,
                                           detail: "the part is labelled \(mediaType.prefix(60)) but its content is XML; inspected as XML"))
        }
        let leaf = MIMELeaf(
            part: part,
            contentID: entity.contentID,
            isXML: form != .notXML,
            isXOPRoot: isXOPRoot || mediaType == "application/xop+xml")
        result.leaves.append(leaf)
        visitor?.visitLeaf(entity, leaf)
    }

    /// Checks a leaf's transfer encoding strictly, where GMime would decode leniently.
    private mutating func checkTransferEncoding(of entity: GMimeEntity, at partPath: PartPath) {
        switch entity.transferEncoding {
        case .base64:
            if let encoded = entity.encodedContent(), !StrictBase64.isValid(encoded) {
                add(.unchecked, "mime.base64-invalid", partPath,
                    "the base64 body has characters outside the alphabet or an incomplete final group")
            }
        case .unknown:
            add(.unchecked, "mime.encoding-unknown", partPath,
                "unknown Content-Transfer-Encoding; the body is passed to the scanner undecoded")
        case .absent, .identity, .quotedPrintable, .uuencode:
            break
        }
    }

    /// Delivers a non-blank preamble or epilogue as a text leaf.
    private mutating func deliverFace(_ face: Data?, of multipart: GMimeEntity, at path: [Int], named name: String) {
        guard let face, face.contains(where: { ![0x20, 0x09, 0x0D, 0x0A].contains($0) }) else { return }
        if name == "preamble", multipart.contentTypeParameter("boundary") == nil,
           case .headerlessMultipart = MIMEHeaderSniffer.shape(of: face) {
            // The boundary parameter is lost, but the body is delimited: a reader that takes the
            // first delimiter for the boundary (as form parsers do) sees parts GMime did not split.
            add(.unchecked, "mime.no-boundary", Self.findingPath(path),
                "a multipart without a boundary parameter whose body is divided into parts; readers disagree on them")
        }
        let part = ExtractedPart(path: PartPath.message.mime(path).appending(name), data: face,
                                 contentType: "text/plain", filename: nil)
        let leaf = MIMELeaf(part: part, contentID: nil, isXML: XMLSniffer.isXMLDocument(face), isXOPRoot: false)
        result.leaves.append(leaf)
        visitor?.visitFace(of: multipart, isPreamble: name == "preamble", leaf)
    }

    /// The index of the root part of an MTOM/XOP package (RFC 2387 `start`, else the first part).
    private func xopRootIndex(of multipart: GMimeEntity, childCount: Int) -> Int? {
        guard multipart.mediaType == "multipart/related",
              let type = multipart.contentTypeParameter("type"),
              type.trimmingCharacters(in: .whitespaces).lowercased() == "application/xop+xml" else { return nil }
        guard let start = multipart.contentTypeParameter("start").map(MIMEText.unbracketed), !start.isEmpty else {
            return 0
        }
        for index in 0..<childCount where multipart.child(at: index)?.contentID == start {
            return index
        }
        return 0
    }

    private mutating func report(_ notice: GMimeParserNotice) {
        guard !reportedNotices.contains(notice) else { return }
        reportedNotices.append(notice)
        switch notice {
        case .nestingOverflow:
            reportLimit(at: [], "MIME nesting deeper than GMime parses")
        case .conflictingHeader:
            add(.unchecked, "mime.ambiguous", .message, "a MIME header appears twice with different values")
        case .conflictingParameter:
            add(.unchecked, "mime.ambiguous", .message, "a MIME parameter appears twice with different values")
        case .multipartWithoutBoundary:
            // Its body becomes the preamble, which is delivered as a leaf: still scanned.
            break
        case .invalidHeaderName:
            // GMime documents that it "may skip the message or parts of it" here.
            add(.unchecked, "mime.malformed-header", .message,
                "a header line is not a valid header field; MIME readers disagree on where the headers end")
        case .partWithoutHeadersOrContent:
            add(.unchecked, "mime.malformed", .message, "a MIME part has neither headers nor content")
        }
    }

    private mutating func noteBareCR(in entity: GMimeEntity) {
        guard !sawBareCRInHeaders else { return }
        sawBareCRInHeaders = entity.headerFields.contains { Self.hasBareCR($0.rawValue) }
    }

    private static func hasBareCR(_ value: Data) -> Bool {
        let bytes = [UInt8](value)
        return bytes.indices.contains { bytes[$0] == 0x0D && ($0 + 1 == bytes.count || bytes[$0 + 1] != 0x0A) }
    }

    private mutating func reportLimit(at path: [Int], _ detail: String) {
        guard !limitReported else { return }
        limitReported = true
        add(.unchecked, "mime.limit", Self.findingPath(path), detail)
    }

    /// Where a finding about the entity at `path` is reported: the top entity is the message.
    private static func findingPath(_ path: [Int]) -> PartPath {
        path.isEmpty ? .message : .message.mime(path)
    }

    private mutating func add(_ stage: Stage, _ rule: String, _ part: PartPath, _ detail: String) {
        result.findings.append(Finding(stage: stage, rule: rule, part: part, action: .quarantine, detail: detail))
    }
}
