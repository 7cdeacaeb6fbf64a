import Foundation
import KordonCore

/// Where a ``MIMETextSite`` lives in the GMime tree.
enum MIMESiteLocation {
    /// The header field at `index` of the entity's ``GMimeEntity/headerFields``.
    case header(GMimeEntity, index: Int)
    /// The decoded body of a leaf.
    case body(GMimeEntity)
    /// The preamble (`isPreamble`) or epilogue of a multipart.
    case face(GMimeEntity, isPreamble: Bool)
}

/// A transfer-encoded message part that GMime kept as a leaf, parsed on its own:
/// edits inside `document` are written back into `leaf` on serialization.
struct MIMEEmbeddedDocument {
    /// The message parsed out of the leaf's decoded content.
    var document: GMimeDocument
    /// The leaf in the enclosing document.
    var leaf: GMimeEntity
    /// Whether the decoded message used CRLF line breaks.
    var crlf: Bool
}

/// Walks a message with ``MIMETreeWalker`` and records its text sites and leaves.
///
/// Being a visitor of the very walk ``MIMEMessageParser`` does, it numbers parts the
/// same way by construction.
final class MIMESiteCollector: MIMETreeVisitor {
    /// Every text site, in message order.
    private(set) var sites: [MIMETextSite] = []
    /// Where each site lives.
    private(set) var locations: [MIMETextSite: MIMESiteLocation] = [:]
    /// Every delivered leaf (not preambles and epilogues), by path.
    private(set) var leaves: [PartPath: GMimeEntity] = [:]
    /// Transfer-encoded message parts parsed on their own, outermost first.
    private(set) var embeddedDocuments: [MIMEEmbeddedDocument] = []
    /// Header fields already seen per path, by lowercased name.
    private var occurrences: [PartPath: [String: Int]] = [:]

    /// Unstructured header fields that carry free text (RFC 5322 3.6.5, RFC 2045 8),
    /// plus every `X-*` field, whose content nobody can vouch for.
    static func isTextHeader(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["subject", "comments", "keywords", "content-description"].contains(lowered) || lowered.hasPrefix("x-")
    }

    /// Whether a non-XML leaf's body is text to look at: `text/*`, CSV and JSON types,
    /// and a generic `application/octet-stream` named `.txt`, `.csv`, `.tsv` or `.json`
    /// (senders often label tables that way).
    static func isTextBody(mediaType: String, filename: String?) -> Bool {
        if mediaType.hasPrefix("text/") { return true }
        if ["application/csv", "application/json"].contains(mediaType) || mediaType.hasSuffix("+json") { return true }
        guard mediaType == "application/octet-stream", let filename else { return false }
        let lowered = filename.lowercased()
        return [".txt", ".csv", ".tsv", ".json"].contains { lowered.hasSuffix($0) }
    }

    func visitMessageHeaders(_ message: GMimeEntity, at path: [Int], mediaType: String) {
        addHeaders(of: message, at: Self.partPath(path), mediaType: mediaType)
    }

    func visitEntity(_ entity: GMimeEntity, at path: [Int]) {
        addHeaders(of: entity, at: Self.partPath(path), mediaType: entity.mediaType)
    }

    func visitLeaf(_ entity: GMimeEntity, _ leaf: MIMELeaf) {
        leaves[leaf.part.path] = entity
        let mediaType = leaf.part.contentType ?? entity.mediaType
        guard !leaf.isXML, Self.isTextBody(mediaType: mediaType, filename: leaf.part.filename) else { return }
        add(MIMETextSite(kind: .body, part: leaf.part.path, contentType: mediaType), at: .body(entity))
    }

    func visitFace(of multipart: GMimeEntity, isPreamble: Bool, _ leaf: MIMELeaf) {
        add(MIMETextSite(kind: .body, part: leaf.part.path, contentType: "text/plain"),
            at: .face(multipart, isPreamble: isPreamble))
    }

    func visitEmbeddedDocument(_ document: GMimeDocument, in leaf: GMimeEntity, at path: [Int]) {
        let decoded = leaf.decodedContent() ?? Data()
        embeddedDocuments.append(MIMEEmbeddedDocument(document: document, leaf: leaf, crlf: MIMELineBreaks.usesCRLF(decoded)))
    }

    private func addHeaders(of entity: GMimeEntity, at path: PartPath, mediaType: String) {
        for (index, field) in entity.headerFields.enumerated() where Self.isTextHeader(field.name) {
            let key = field.name.lowercased()
            let occurrence = occurrences[path, default: [:]][key, default: 0]
            occurrences[path, default: [:]][key] = occurrence + 1
            add(MIMETextSite(kind: .header(field.name), part: path, contentType: mediaType, occurrence: occurrence),
                at: .header(entity, index: index))
        }
    }

    private func add(_ site: MIMETextSite, at location: MIMESiteLocation) {
        // A site is unique by construction (path + name + occurrence); keep the first if not.
        guard locations[site] == nil else { return }
        sites.append(site)
        locations[site] = location
    }

    /// The walker's path as a report path: `[]` is the whole message.
    private static func partPath(_ path: [Int]) -> PartPath {
        path.isEmpty ? .message : .message.mime(path)
    }
}

/// Line-break conventions of a message.
enum MIMELineBreaks {
    /// Whether the first line break in `data` is CRLF (what SMTP carries), rather than a bare LF.
    static func usesCRLF(_ data: Data) -> Bool {
        guard let newline = data.firstIndex(of: 0x0A) else { return true }
        return newline > data.startIndex && data[data.index(before: newline)] == 0x0D
    }
}
