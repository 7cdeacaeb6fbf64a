import Foundation

/// How the first bytes of an XML document encode its characters (XML 1.0, Appendix F).
public enum XMLByteForm: Sendable, Equatable {
    /// UTF-8, or an ASCII-compatible encoding that the declaration names.
    case ascii
    /// UTF-16 in the given byte order.
    case utf16(littleEndian: Bool)
    /// UTF-32 (UCS-4) in the given byte order.
    case utf32(littleEndian: Bool)
    /// UCS-4 in the unusual byte orders 2143 or 3412, which libxml2 does not read.
    case ucs4Unusual
    /// An EBCDIC code page, recognised by its declaration (`<?xm` as `4C 6F A7 94`).
    case ebcdic

    /// Bytes per code unit; EBCDIC counts as one.
    var unitWidth: Int {
        switch self {
        case .ascii, .ebcdic: 1
        case .utf16: 2
        case .utf32, .ucs4Unusual: 4
        }
    }
}

/// What the first bytes of some data say about it being an XML document.
public struct XMLSniff: Sendable, Equatable {
    /// The encoding form the bytes are in.
    public var form: XMLByteForm
    /// Length of the byte order mark in front, 0 when there is none.
    public var byteOrderMarkLength: Int
    /// Whether the first markup is an XML declaration (`<?xml` and a space).
    public var hasDeclaration: Bool
    /// Whether bytes XML does not allow there (NULs, a byte order mark of another encoding)
    /// come before the declaration. Parsers refuse such a document, but a lenient receiver
    /// that skips them reads XML, so Kordon treats it as XML (and refuses it).
    public var hasLeadingJunk: Bool
}

/// Recognises XML by content, in every encoding form an XML reader detects from the first
/// bytes: UTF-8 (with or without a byte order mark), UTF-16 and UTF-32 in either byte order
/// (with a byte order mark, or by the NULs around a `<` or leading whitespace), UCS-4 in the
/// unusual orders 2143 and 3412, and EBCDIC by its declaration.
///
/// One detector for the whole message (`MessageForm`), for MIME parts (whose label does not
/// decide) and for the XML stage's own encoding handling, so that the three agree.
/// Reads the leading whitespace and a few units after it, and at most the last 4 KB.
public enum XMLSniffer {
    /// How many bytes at the end are looked at, and how much whitespace may follow leading junk.
    static let window = 4096

    /// How the data starts, when it starts like XML; `nil` otherwise.
    ///
    /// XML starts, after an optional byte order mark and whitespace, with `<`. In UTF-8
    /// any `<` counts; in the wider forms the `<` must be followed by `?`, `!` or a name
    /// character, so that binary data with NULs around a `0x3C` byte is not taken for XML.
    /// Data that has only NULs and byte order marks before an ASCII `<?xml ` declaration
    /// is XML with ``XMLSniff/hasLeadingJunk``.
    public static func sniff(_ data: Data) -> XMLSniff? {
        // The whole buffer, not a window: XML may start with any amount of whitespace before
        // its root element, and every loop below stops at the first unit that is not whitespace.
        data.withUnsafeBytes { raw in
            sniff(raw.bindMemory(to: UInt8.self))
        }
    }

    /// Whether a MIME part's content is an XML document, whatever its label says: it starts
    /// like XML (see ``sniff(_:)``) and either opens with an XML declaration or ends, after
    /// whitespace, with `>` (as every well-formed document does). The second test keeps
    /// short texts that merely begin with `<` (`<https://…> see link`) what they are.
    public static func isXMLDocument(_ data: Data) -> Bool {
        guard let sniff = sniff(data) else { return false }
        if sniff.hasDeclaration { return true }
        return endsWithMarkup(data, form: sniff.form, byteOrderMarkLength: sniff.byteOrderMarkLength)
    }

    /// Whether `data` is empty or only whitespace after an optional UTF-8 byte order mark.
    public static func isBlank(_ data: Data) -> Bool {
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return bytes.allSatisfy(isSpace)
    }

    // MARK: - Start

    private static func sniff(_ head: UnsafeBufferPointer<UInt8>) -> XMLSniff? {
        let b = Array(head.prefix(4)) + [UInt8](repeating: 0xA5, count: max(0, 4 - head.count))  // padding no rule matches
        let candidates: [(XMLByteForm, Int)]
        switch (b[0], b[1], b[2], b[3]) {
        case (0x00, 0x00, 0xFE, 0xFF): candidates = [(.utf32(littleEndian: false), 4)]
        case (0xFF, 0xFE, 0x00, 0x00): candidates = [(.utf32(littleEndian: true), 4), (.utf16(littleEndian: true), 2)]
        case (0x00, 0x00, 0xFF, 0xFE), (0xFE, 0xFF, 0x00, 0x00): candidates = [(.ucs4Unusual, 4)]
        case (0xFE, 0xFF, _, _): candidates = [(.utf16(littleEndian: false), 2)]
        case (0xFF, 0xFE, _, _): candidates = [(.utf16(littleEndian: true), 2)]
        case (0xEF, 0xBB, 0xBF, _): candidates = [(.ascii, 3)]
        case (0x4C, 0x6F, 0xA7, 0x94):
            return XMLSniff(form: .ebcdic, byteOrderMarkLength: 0, hasDeclaration: true, hasLeadingJunk: false)
        default:
            candidates = [(.utf32(littleEndian: false), 0), (.utf32(littleEndian: true), 0), (.ucs4Unusual, 0),
                          (.utf16(littleEndian: false), 0), (.utf16(littleEndian: true), 0), (.ascii, 0)]
        }
        for (form, bom) in candidates {
            if let sniff = start(of: head, form: form, byteOrderMarkLength: bom) { return sniff }
        }
        return junkBeforeDeclaration(head)
    }

    /// The sniff when, in `form` after `byteOrderMarkLength` bytes, whitespace and then `<` come.
    private static func start(of head: UnsafeBufferPointer<UInt8>, form: XMLByteForm, byteOrderMarkLength bom: Int) -> XMLSniff? {
        var k = 0
        while let unit = unit(head, form, bom, k), isSpace(unit) { k += 1 }
        guard unit(head, form, bom, k) == 0x3C else { return nil }
        let next = unit(head, form, bom, k + 1)
        if form != .ascii {
            guard let next, next == 0x3F || next == 0x21 || isNameStart(next) else { return nil }
        }
        let declaration = next == 0x3F && unit(head, form, bom, k + 2) == 0x78 && unit(head, form, bom, k + 3) == 0x6D
            && unit(head, form, bom, k + 4) == 0x6C && unit(head, form, bom, k + 5).map(isSpace) == true
        return XMLSniff(form: form, byteOrderMarkLength: bom, hasDeclaration: declaration, hasLeadingJunk: false)
    }

    /// NULs and byte order marks (of any form), then whitespace and an ASCII `<?xml ` declaration.
    private static func junkBeforeDeclaration(_ head: UnsafeBufferPointer<UInt8>) -> XMLSniff? {
        var k = 0
        while k < min(head.count, 64), [0x00, 0xEF, 0xBB, 0xBF, 0xFE, 0xFF].contains(head[k]) { k += 1 }
        guard k > 0 else { return nil }
        while k < head.count, k < window, isSpace(UInt32(head[k])) { k += 1 }
        guard head.count > k + 5, head[k..<(k + 5)].elementsEqual("<?xml".utf8), isSpace(UInt32(head[k + 5])) else { return nil }
        return XMLSniff(form: .ascii, byteOrderMarkLength: 0, hasDeclaration: true, hasLeadingJunk: true)
    }

    /// The `index`-th code unit after the byte order mark, `nil` past the end.
    private static func unit(_ bytes: UnsafeBufferPointer<UInt8>, _ form: XMLByteForm, _ bom: Int, _ index: Int) -> UInt32? {
        let width = form.unitWidth
        let at = bom + index * width
        guard at + width <= bytes.count else { return nil }
        let b0 = UInt32(bytes[at])
        switch form {
        case .ascii, .ebcdic:
            return b0
        case .utf16(let littleEndian):
            let b1 = UInt32(bytes[at + 1])
            return littleEndian ? b1 << 8 | b0 : b0 << 8 | b1
        case .utf32(let littleEndian):
            let b1 = UInt32(bytes[at + 1]), b2 = UInt32(bytes[at + 2]), b3 = UInt32(bytes[at + 3])
            return littleEndian ? b3 << 24 | b2 << 16 | b1 << 8 | b0 : b0 << 24 | b1 << 16 | b2 << 8 | b3
        case .ucs4Unusual:
            // 2143 puts `<` at byte 2 (00 00 3C 00), 3412 at byte 1 (00 3C 00 00); either
            // way the three other bytes of an ASCII character are zero.
            let b1 = UInt32(bytes[at + 1]), b2 = UInt32(bytes[at + 2]), b3 = UInt32(bytes[at + 3])
            let order2143 = b1 << 24 | b0 << 16 | b3 << 8 | b2
            let order3412 = b2 << 24 | b3 << 16 | b0 << 8 | b1
            return order2143 < 0x80 ? order2143 : order3412
        }
    }

    // MARK: - End

    /// Whether the last character but whitespace is `>`, read in `form`.
    private static func endsWithMarkup(_ data: Data, form: XMLByteForm, byteOrderMarkLength bom: Int) -> Bool {
        let width = form.unitWidth
        guard (data.count - bom) % width == 0 else { return false }
        let tailLength = min(data.count - bom, window - window % width)
        return data.suffix(tailLength).withUnsafeBytes { raw -> Bool in
            let tail = raw.bindMemory(to: UInt8.self)
            var k = tail.count / width - 1
            while k >= 0, let unit = unit(tail, form, 0, k), isSpace(unit) { k -= 1 }
            return k >= 0 && unit(tail, form, 0, k) == 0x3E
        }
    }

    // MARK: - Characters

    private static func isSpace(_ unit: UInt32) -> Bool {
        unit == 0x20 || unit == 0x09 || unit == 0x0A || unit == 0x0D
    }

    private static func isSpace(_ byte: UInt8) -> Bool { isSpace(UInt32(byte)) }

    /// XML NameStartChar, approximately: ASCII letters, `_`, `:`, and any code unit from
    /// U+00C0 up (a UTF-16 surrogate included: it starts a character beyond the BMP).
    private static func isNameStart(_ unit: UInt32) -> Bool {
        (0x41...0x5A).contains(unit) || (0x61...0x7A).contains(unit) || unit == 0x5F || unit == 0x3A
            || (0xC0...0x10FFFF).contains(unit)
    }
}
