import Foundation
import KordonCore

/// Finds the base64 payloads of one parsed document: XOP attachments, elements typed
/// `xs:base64Binary` by the schemas, the attachment elements of the agreed formats
/// (``PayloadElements``, typed as strings), and, as a fallback, whatever a receiver could
/// decode out of any text in it (see ``EncodedText`` and, for short files, ``ShortBase64``).
struct PayloadExtractor {
    /// The shortest text (whitespace trimmed) the fallback considers.
    static let minimumFallbackLength = XMLGuard.minimumRunLength
    /// The XOP namespace (`xop:Include`).
    static let xopNamespace = "http://www.w3.org/2004/08/xop/include"

    let path: PartPath
    let index: SchemaTypeIndex
    /// Elements that carry attachments whatever their type: decoded like typed ones.
    let payloadElements: PayloadElements
    /// Most payloads handed out for one document (beyond: an `unchecked` finding).
    let maxPayloads: Int

    private(set) var payloads: [ExtractedPart] = []
    private(set) var findings: [Finding] = []
    private(set) var usedAttachments: Set<String> = []
    /// The whitespace-free base64 text of every decoded payload, to cut from the scan view.
    private(set) var payloadTexts: Set<PayloadText> = []
    private var taken: Set<XMLNode> = []
    private var limitReported = false

    init(path: PartPath, index: SchemaTypeIndex, payloadElements: PayloadElements = .defaults, maxPayloads: Int) {
        self.path = path
        self.index = index
        self.payloadElements = payloadElements
        self.maxPayloads = maxPayloads
    }

    /// Replaces every `xop:Include` with the base64 text of the attachment it names (the
    /// XOP infoset, so that the document validates) and hands the attachment out as the
    /// payload of the including element.
    mutating func resolveXOP(in document: XMLDocument, attachments: [String: Data]) {
        var includes: [(node: XMLNode, parentPath: String)] = []
        document.walk { node, tracker in
            if node.namespace == Self.xopNamespace, node.localName == "Include" {
                includes.append((node, tracker.parentPath))
            }
        }
        for (include, parentPath) in includes {
            let href = include.attribute("href") ?? ""
            let id = href.lowercased().hasPrefix("cid:") ? String(href.dropFirst(4)) : nil
            let decodedID = id.map { $0.removingPercentEncoding ?? $0 }
            guard let decodedID, let key = [decodedID, "<\(decodedID)>"].first(where: { attachments[$0] != nil }),
                  let bytes = attachments[key]
            else {
                findings.append(Finding(stage: .xml, rule: "xml.xop-missing", part: path.xml(parentPath),
                                        detail: id == nil ? "an xop:Include without a cid: reference"
                                                          : "an xop:Include refers to an attachment that is not in the message"))
                continue
            }
            if let parent = include.parent { taken.insert(parent) }
            include.replaceWithText(bytes.base64EncodedString())
            usedAttachments.insert(key)
            add(ExtractedPart(path: path.xml(parentPath), data: bytes), base64Text: nil)
        }
    }

    /// Decodes typed base64 elements, then, anywhere else, what a receiver could decode
    /// out of text (``EncodedText``): element text, attribute values, namespace URIs,
    /// comments and processing instructions.
    mutating func extract(from document: XMLDocument) {
        document.forEachTopLevelCommentOrPI(minimumLength: EncodedText.minimumBase64Length) { kind, text in
            addDecoded(EncodedText.decodeAll(text), at: path.xml(kind.pathStep))
        }
        document.walk { node, tracker in
            node.forEachMarkupText(minimumLength: EncodedText.minimumBase64Length) { kind, text in
                addDecoded(EncodedText.decodeAll(text), at: path.xml(tracker.path + kind.pathStep))
            }
            guard !taken.contains(node) else { return }
            let name = node.qname
            let typed = index.base64Elements.contains(name)
            // An attachment element of the agreed formats is read as if typed base64Binary.
            let listed = !typed && payloadElements.contains(name, at: node)
            if typed || listed || index.ambiguousElements.contains(name) {
                // Read in place, never copied: a payload's text can be most of the document.
                let handled = node.withTextBytes { text -> Bool in
                    if let decoded = Base64.decode(text) {
                        if !decoded.isEmpty {
                            add(ExtractedPart(path: path.xml(tracker.path), data: decoded), base64Text: PayloadText(stripping: text))
                        }
                        return true
                    }
                    guard typed || listed else { return false }
                    findings.append(Finding(stage: .unchecked, rule: "xml.base64-undecodable", part: path.xml(tracker.path),
                                            detail: typed ? "an element of type base64Binary does not hold valid base64, so its content could not be scanned"
                                                          : "an attachment element of its format (\(name.localName)) does not hold valid base64, so its file could not be scanned"))
                    // Still scan what a forgiving decoder makes of it, so a payload is named.
                    addDecoded(EncodedText.decodeAll(text), at: path.xml(tracker.path))
                    return true
                }
                if handled { return }
            }
            guard node.textLength >= ShortBase64.minimumLength else { return }
            // Read in place too: an untyped payload can be as large as a typed one. The
            // decoders skip XML whitespace themselves, so the text is not stripped first.
            node.withTextBytes { text in
                if text.count >= Self.minimumFallbackLength, let decoded = Base64.decode(text) {
                    // Long strictly valid base64, the common payload: decoded without looking further.
                    let payloadText = PayloadText(stripping: text)
                    if payloadText.count >= Self.minimumFallbackLength {
                        add(ExtractedPart(path: path.xml(tracker.path), data: decoded), base64Text: payloadText)
                        if EncodedText.mayBeHex(text), let hex = HexText.decode(text) {
                            add(ExtractedPart(path: path.xml(tracker.path), data: hex), base64Text: nil)
                        }
                        return
                    }
                }
                let decoded = text.count >= EncodedText.minimumBase64Length ? EncodedText.decodeAll(text) : (found: [], complete: true)
                // A short file (or one of mostly zero bytes) that the text decoders leave alone.
                if let file = ShortBase64.decodeFile(text), !decoded.found.contains(where: { $0.data == file }) {
                    add(ExtractedPart(path: path.xml(tracker.path), data: file), base64Text: nil)
                }
                addDecoded(decoded, at: path.xml(tracker.path))
            }
        }
    }

    /// Hands out what ``EncodedText`` decoded at `partPath`. Its text stays in the scan
    /// view: only strictly decoded runs the guard recorded are cut.
    private mutating func addDecoded(_ decoded: (found: [DecodedText], complete: Bool), at partPath: PartPath) {
        for item in decoded.found {
            add(ExtractedPart(path: partPath, data: item.data, filename: item.name), base64Text: nil)
        }
        if !decoded.complete {
            findings.append(Finding(stage: .unchecked, rule: "xml.payload-limit", part: partPath,
                                    detail: "more than \(EncodedText.maxResults) encoded payloads in one text; the rest were not decoded or scanned"))
        }
    }

    /// Hands out a payload; `base64Text` is its text without whitespace, kept so the
    /// same run can be cut from the scan view.
    private mutating func add(_ part: ExtractedPart, base64Text: PayloadText?) {
        guard payloads.count < maxPayloads else {
            if !limitReported {
                limitReported = true
                findings.append(Finding(stage: .unchecked, rule: "xml.payload-limit", part: path,
                                        detail: "more than \(maxPayloads) base64 payloads; the rest were not decoded or scanned on their own"))
            }
            return
        }
        payloads.append(part)
        if let base64Text, base64Text.count >= XMLGuard.minimumRunLength {
            payloadTexts.insert(base64Text)
        }
    }

    /// `bytes` without the guard-recorded text runs whose whitespace-free text is exactly
    /// a payload handed out: only what was decoded (and will be scanned on its own) is cut.
    /// `nil` when nothing is cut.
    static func scanView(of bytes: Data, runs: [Range<Int>], cutting texts: Set<PayloadText>) -> Data? {
        guard !texts.isEmpty, !runs.isEmpty else { return nil }
        var view = Data()
        var position = 0
        var cut = false
        bytes.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            for run in runs {
                guard texts.contains(PayloadText(stripping: UnsafeBufferPointer(rebasing: all[run]))) else { continue }
                view.append(contentsOf: all[position..<run.lowerBound])
                position = run.upperBound
                cut = true
            }
            view.append(contentsOf: all[position..<all.count])
        }
        return cut ? view : nil
    }
}
