import CLibXML2
import Foundation

/// What a document looked like around its tree when it was read, so that it can be
/// written back the same way: its encoding, byte order mark and XML declaration.
struct SerializationLayout: Sendable {
    /// The bytes libxml2 produces and how they become the output.
    enum Form: Sendable, Equatable {
        /// libxml2 encodes the output in this (declared) encoding.
        case encoded(String)
        /// libxml2 writes UTF-8, which is then turned back into UTF-16 or UTF-32 (the input
        /// was in that form and ``XMLInput`` transcoded it for the parser).
        case transcoded(TranscodedForm, byteOrderMark: Bool)
    }

    /// How the output is encoded.
    let form: Form
    /// Written before the tree, verbatim: a UTF-8 byte order mark (not for UTF-16, whose
    /// mark ``Form/utf16(littleEndian:byteOrderMark:)`` adds), the XML declaration exactly as
    /// it was, and the whitespace that followed it. Empty when the document had no declaration.
    let prologue: [UInt8]
    /// Whether the document ended with a line feed (libxml2 always writes one).
    let endsWithNewline: Bool

    /// The layout of `original`, of which `prepared` is the guarded (maybe transcoded) form.
    init(original: Data, prepared: PreparedXML) {
        let bytes = [UInt8](prepared.bytes)
        var start = 0
        var prologue: [UInt8] = []
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            start = 3
            prologue = [0xEF, 0xBB, 0xBF]
        }
        if bytes[start...].starts(with: Array("<?xml".utf8)), bytes.count > start + 5, isXMLSpace(bytes[start + 5]),
           let close = Self.find(Array("?>".utf8), in: bytes, from: start) {
            var end = close + 2
            while end < bytes.count, isXMLSpace(bytes[end]) { end += 1 }
            prologue += bytes[start..<end]
        }
        if let source = prepared.transcodedFrom {
            form = .transcoded(source, byteOrderMark: prepared.hadByteOrderMark)
        } else {
            form = .encoded(XMLInput.declaredEncoding(prepared.bytes) ?? "UTF-8")
        }
        endsWithNewline = bytes.last == 0x0A
        self.prologue = prologue
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var k = start
        while k + needle.count <= bytes.count {
            if bytes[k] == needle[0], Array(bytes[k..<(k + needle.count)]) == needle { return k }
            k += 1
        }
        return nil
    }
}

/// Writes a libxml2 document back as bytes without reformatting it.
///
/// libxml2 writes the tree (`xmlSaveToIO`, no formatting options): whitespace text,
/// comments, namespace declarations and attribute order stay as parsed. Kordon writes the
/// original declaration itself (`XML_SAVE_NO_DECL`), so that it stays byte for byte what
/// the sender wrote. What libxml2 does change: attribute values are written in double
/// quotes (`"` inside as `&quot;`), empty elements as `<a/>`, `>` in text as `&gt;`,
/// character references as the characters they stand for (where the encoding has them;
/// otherwise as references), CDATA sections as escaped text (the parser merges them into
/// text), line ends as line feeds, and whitespace inside tags and between top-level nodes
/// is normalized. The sample fixtures come out byte for byte as they went in.
enum XMLSerializer {
    /// The document in the encoding `layout` names.
    static func serialize(_ document: XMLDocument, layout: SerializationLayout) -> Data {
        switch layout.form {
        case .encoded(let encoding):
            if let body = write(document, encoding: encoding, declaration: false) {
                return Data(layout.prologue + trimmed(body, layout))
            }
            // The encoder is missing (it was there to parse): UTF-8 with libxml2's own declaration.
            return Data(write(document, encoding: "UTF-8", declaration: true) ?? [])
        case .transcoded(let source, let byteOrderMark):
            let body = write(document, encoding: "UTF-8", declaration: false) ?? []
            return XMLInput.encode(layout.prologue + trimmed(body, layout), as: source, byteOrderMark: byteOrderMark)
        }
    }

    /// libxml2's output for `document` in `encoding`, or `nil` when it could not be written.
    private static func write(_ document: XMLDocument, encoding: String, declaration: Bool) -> [UInt8]? {
        let sink = OutputSink()
        let options = declaration ? 0 : Int32(XML_SAVE_NO_DECL.rawValue)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let written: Int? = withSilencedGlobalErrors {
            guard let save = xmlSaveToIO(writeToSink, closeSink, context, encoding, options) else { return nil }
            let status = xmlSaveDoc(save, document.handle)
            let closed = xmlSaveClose(save)
            return status < 0 || closed < 0 ? nil : Int(status)
        }
        guard written != nil, !sink.failed else { return nil }
        return sink.bytes
    }

    /// `body` without libxml2's final line feed when the original had none.
    private static func trimmed(_ body: [UInt8], _ layout: SerializationLayout) -> [UInt8] {
        if !layout.endsWithNewline, body.last == 0x0A { return Array(body.dropLast()) }
        return body
    }
}

/// Collects what libxml2 writes.
private final class OutputSink {
    var bytes: [UInt8] = []
    var failed = false
}

private let writeToSink: xmlOutputWriteCallback = { context, buffer, length in
    guard let context else { return -1 }
    let sink = Unmanaged<OutputSink>.fromOpaque(context).takeUnretainedValue()
    guard length >= 0 else { sink.failed = true; return -1 }
    if let buffer, length > 0 {
        buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }
    return length
}

private let closeSink: xmlOutputCloseCallback = { _ in 0 }
