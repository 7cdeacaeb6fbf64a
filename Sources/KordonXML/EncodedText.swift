import Foundation

/// How a payload was taken out of text.
public enum TextEncoding: String, Sendable {
    /// Strictly valid base64 (RFC 4648).
    case base64
    /// Base64 only a forgiving decoder reads (see ``LenientBase64``).
    case base64Lenient = "base64-lenient"
    /// Hexadecimal digits.
    case hex
    /// A uuencoded (or `begin-base64`) block.
    case uuencode
}

/// Bytes a receiver's ordinary tools would decode out of a piece of text.
public struct DecodedText: Sendable, Equatable {
    /// How they were encoded.
    public let encoding: TextEncoding
    /// The decoded bytes.
    public let data: Data
    /// The file name the encoding carried (uuencode's `begin 644 name`).
    public let name: String?
}

/// Finds what a receiver could decode out of text that Kordon would otherwise only
/// scan as text: base64 (strict, or only forgiving decoders' way), long hex, uuencode.
///
/// For one text (an element's text, an attribute value, a comment, a text file), in order:
/// - strictly valid base64 of ``minimumBase64Length`` characters or more is decoded;
/// - hex digits only (with `-`: UUIDs) are never read as base64; ``minimumHexLength``
///   digits or more are decoded as hex;
/// - "mostly base64" text — 90% of its non-space bytes in the alphabet (`+/`, `-_`, `=`),
///   and the case-and-digit mixing base64 has (``TextShape/isMixed``), which prose, codes,
///   URLs and paths lack — is decoded forgivingly (with `-_` dropped or read as the
///   URL-safe alphabet, whichever `+/` against `-_` says, both when it cannot tell); when a label (`data:…;base64,`,
///   `base64:`, a namespace before a location) precedes the run, the run after it
///   is decoded as well;
/// - unless the whole was exact, blocks of base64-looking lines inside the text, and
///   base64-looking tokens between delimiters (JSON, CSV, `key=value`), one by one;
/// - uuencoded blocks anywhere in it.
///
/// Forgiving decoding never fails, so nothing here is "undecodable": what comes out is
/// scanned, and garbage decoded from text that only looked like base64 scans clean.
public enum EncodedText {
    /// The fewest base64 characters considered (24 decoded bytes).
    public static let minimumBase64Length = 32
    /// The fewest hex digits considered (64 bytes): shorter hex is a digest or an identifier.
    public static let minimumHexLength = 128
    /// A label may end this far into the text at most.
    static let labelWindow = 128

    /// Most payloads taken out of one text; past it the text is not fully checked.
    public static let maxResults = 1000
    /// The shortest token of structured text considered (a 48-byte file): a file
    /// list, a MIME type table or a URL holds shorter base64-looking tokens by the hundred.
    static let minimumTokenLength = 64

    /// What a receiver could decode out of `data`.
    public static func decode(_ data: Data) -> [DecodedText] {
        data.withUnsafeBytes { decodeAll($0.bindMemory(to: UInt8.self)).found }
    }

    /// What a receiver could decode out of `text`.
    public static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [DecodedText] {
        decodeAll(text).found
    }

    /// What a receiver could decode out of `text`, and whether that is all of it:
    /// `complete` is `false` when more than ``maxResults`` payloads were there.
    public static func decodeAll(_ text: UnsafeBufferPointer<UInt8>) -> (found: [DecodedText], complete: Bool) {
        var results = Results()
        // uuencoded blocks first: they carry file names, which a base64 reading of the same lines lacks.
        if UUDecode.mayHoldBlocks(text) {
            results.add(UUDecode.blocks(in: text).filter { !$0.data.isEmpty }.map {
                DecodedText(encoding: $0.base64 ? .base64Lenient : .uuencode, data: $0.data, name: $0.name)
            })
        }
        let trimmed = trimmingSpace(text)
        if trimmed.count >= minimumBase64Length {
            let shape = TextShape(trimmed)
            var exact = false
            if shape.looksLikeBase64 {
                var whole: [DecodedText] = []
                exact = decodeRun(trimmed, shape: shape, into: &whole)
                results.add(whole)
            }
            if !exact {
                // Prose or structure around a payload garbles the whole text's decoding:
                // pasted blocks of lines, and delimited tokens (JSON, CSV, key=value), alone.
                if shape.lineBreaks > 0 { decodeLineBlocks(trimmed, into: &results) }
                if shape.others + shape.spaces > 0 { decodeTokens(trimmed, into: &results) }
            }
        }
        return (results.found, results.complete)
    }

    /// Payloads found so far, each once, at most ``maxResults``.
    struct Results {
        private(set) var found: [DecodedText] = []
        private(set) var complete = true
        /// The bytes handed out, hashed whole: comparing each new payload with every
        /// earlier one would be quadratic in a text of many near-equal runs.
        private var seen: Set<Data> = []

        mutating func add(_ items: [DecodedText]) {
            for item in items where !seen.contains(item.data) {
                guard found.count < EncodedText.maxResults else { complete = false; return }
                seen.insert(item.data)
                found.append(item)
            }
        }
    }

    /// Whether `data` is ASCII text but for one byte in a hundred at most (or one: a stray high
    /// byte or NUL that makes it "binary" to a sniffer, and that `base64 -di` or Python's
    /// `b64decode` skip). Stops at the first few bytes of a binary file.
    public static func isNearlyASCII(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            let allowed = max(1, raw.count / 100)
            var strays = 0
            for byte in raw where byte >= 0x7F || (byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C) {
                strays += 1
                if strays > allowed { return false }
            }
            return !raw.isEmpty
        }
    }

    /// Whether strictly decoded base64 text might be hex digits instead: its first 64
    /// bytes are (random base64 has a letter past `f` within a few characters).
    static func mayBeHex(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in text.prefix(64) where !isXMLSpace(byte) && HexText.value(of: byte) == nil { return false }
        return true
    }

    /// Decodes one base64-looking (or hex) run: strictly when it can be, else forgivingly,
    /// and once more after a label when one precedes it. Returns whether the run was
    /// exact (strict base64 or hex as a whole), so that nothing else needs trying.
    @discardableResult
    private static func decodeRun(_ run: UnsafeBufferPointer<UInt8>, shape: TextShape, afterLabel: Bool = false,
                                  into found: inout [DecodedText]) -> Bool {
        if shape.isHex {
            if shape.hexDigits >= minimumHexLength, let data = HexText.decode(run) {
                found.append(DecodedText(encoding: .hex, data: data, name: nil))
            }
            return true
        }
        if shape.isStrictAlphabet, let data = Base64.decode(run) {
            if !data.isEmpty { found.append(DecodedText(encoding: .base64, data: data, name: nil)) }
            return true
        }
        // `-` and `_` are strays to `b64decode` and the alphabet to `urlsafe_b64decode`. A
        // payload of some size has `+/` (one character in 32) unless written URL-safe; a
        // short one may have none, and then both readings are decoded.
        let standard = shape.dashUnderscore == 0 || shape.plusSlash >= shape.dashUnderscore || shape.plusSlash == 0
        let urlSafe = shape.dashUnderscore > 0 && (shape.plusSlash == 0 || shape.dashUnderscore > shape.plusSlash)
        let whole = LenientBase64.decode(run, urlSafe: !standard)
        found.append(DecodedText(encoding: .base64Lenient, data: whole, name: nil))
        if standard, urlSafe {
            let other = LenientBase64.decode(run, urlSafe: true)
            if other != whole { found.append(DecodedText(encoding: .base64Lenient, data: other, name: nil)) }
        }
        // One label at most: a text of nothing but labels must not cost a decode each.
        if !afterLabel, let start = labelEnd(in: run) {
            let rest = UnsafeBufferPointer(rebasing: run[start...])
            let restShape = TextShape(rest)
            var after: [DecodedText] = []
            if restShape.looksLikeBase64 { decodeRun(rest, shape: restShape, afterLabel: true, into: &after) }
            let new = after.filter { item in !found.contains { $0.data == item.data } }
            found += new
        }
        return false
    }

    /// Runs of consecutive base64-looking lines inside text that is not base64 as a
    /// whole (a pasted block in a mail body, in an element's prose), each decoded as a run.
    private static func decodeLineBlocks(_ text: UnsafeBufferPointer<UInt8>, into results: inout Results) {
        var lines = LineReader(text)
        var blockStart: Int?
        var blockEnd = 0
        var hasLongLine = false
        func finish() {
            defer { blockStart = nil; hasLongLine = false }
            // A block that is the whole text was decoded as the whole text already.
            guard let start = blockStart, hasLongLine, blockEnd - start >= minimumBase64Length,
                  blockEnd - start < text.count else { return }
            let block = UnsafeBufferPointer(rebasing: text[start..<blockEnd])
            let shape = TextShape(block)
            guard shape.looksLikeBase64 else { return }
            var found: [DecodedText] = []
            decodeRun(block, shape: shape, into: &found)
            results.add(found)
        }
        while true {
            let lineStart = lines.offset
            guard let line = lines.next() else { break }
            let piece = trimmingSpace(UnsafeBufferPointer(rebasing: line))
            if isBase64Line(piece) {
                if blockStart == nil { blockStart = lineStart }
                blockEnd = line.endIndex
                if piece.count >= 16 { hasLongLine = true }
            } else {
                finish()
            }
        }
        finish()
    }

    /// Tokens between delimiters (space, tab, quotes, `,` `;` brackets, `<>`, `|`, `\\`),
    /// each ``minimumTokenLength`` bytes long or more and base64-looking decoded as a run
    /// (mixed like base64, as ``TextShape/looksLikeBase64`` asks): a JSON string, a CSV field,
    /// a `key=value` pair. Not split at line breaks, so a wrapped block stays one token.
    private static func decodeTokens(_ text: UnsafeBufferPointer<UInt8>, into results: inout Results) {
        var start = 0
        func finish(_ end: Int) {
            guard end - start >= minimumTokenLength, end - start < text.count else { return }
            let token = trimmingSpace(UnsafeBufferPointer(rebasing: text[start..<end]))
            let shape = TextShape(token)
            guard shape.looksLikeBase64 else { return }
            var found: [DecodedText] = []
            decodeRun(token, shape: shape, afterLabel: true, into: &found)
            results.add(found)
        }
        Self.tokenDelimiters.withUnsafeBufferPointer { delimiters in
            for k in 0..<text.count where delimiters[Int(text[k])] != 0 {
                finish(k)
                start = k + 1
            }
        }
        finish(text.count)
    }

    /// 1 for the bytes that end a token.
    private static let tokenDelimiters: [UInt8] = (0...255).map { (c: Int) -> UInt8 in
        Array(" \t\r\"',;{}[]()<>|\\".utf8).contains(UInt8(c)) ? 1 : 0
    }

    /// A line of a base64 block: alphabet only, or 16+ bytes with no space and at most
    /// a tenth of them strays.
    private static func isBase64Line(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count >= 4 else { return false }
        var strays = 0
        for byte in line {
            if isXMLSpace(byte) { return false }
            if !isBase64Byte(byte), byte != UInt8(ascii: "-"), byte != UInt8(ascii: "_") { strays += 1 }
        }
        return strays == 0 || (line.count >= 16 && strays * 10 <= line.count)
    }

    /// Where a run starts after a label: past the last `,` `:` `;` or space in the first
    /// ``labelWindow`` bytes that is followed by 16 alphabet bytes, when what comes before
    /// it is short or holds a non-alphabet byte (so a wrapped line is never taken for a label).
    static func labelEnd(in text: UnsafeBufferPointer<UInt8>) -> Int? {
        var best: Int?
        var prefixHasStray = false
        for p in 0..<min(text.count, labelWindow) {
            let byte = text[p]
            let isSeparator = byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ";") || isXMLSpace(byte)
            if isSeparator, prefixHasStray || p < 16, alphabetRun(in: text, from: p + 1) >= 16 {
                best = p + 1
            }
            if !isBase64Byte(byte) { prefixHasStray = true }
        }
        return best
    }

    private static func alphabetRun(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var k = start
        while k < text.count, k - start < 16, isBase64Byte(text[k]) || text[k] == UInt8(ascii: "-") || text[k] == UInt8(ascii: "_") { k += 1 }
        return k - start
    }

    /// `text` without leading and trailing ASCII whitespace.
    static func trimmingSpace(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = text.count
        while start < end, isXMLSpace(text[start]) { start += 1 }
        while end > start, isXMLSpace(text[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: text[start..<end])
    }
}

/// Counts over one text, taken in one pass, that tell base64 from prose.
struct TextShape {
    private static let upper: UInt8 = 0, lower: UInt8 = 1, digit: UInt8 = 2, plusSlash: UInt8 = 3,
                       dashUnderscore: UInt8 = 4, pad: UInt8 = 5, space: UInt8 = 6, other: UInt8 = 7
    private static let hexFlag: UInt8 = 8

    /// Each byte's class in the low three bits, and ``hexFlag`` for hex digits.
    private static let classes: [UInt8] = (0...255).map { (value: Int) -> UInt8 in
        let c = UInt8(value)
        var cls: UInt8 = switch c {
        case 65...90: upper
        case 97...122: lower
        case 48...57: digit
        case 43, 47: plusSlash
        case 45, 95: dashUnderscore
        case 61: pad
        case 0x20, 0x09, 0x0A, 0x0D: space
        default: other
        }
        if HexText.value(of: c) != nil { cls |= hexFlag }
        return cls
    }

    var letters = 0, plusSlash = 0, dashUnderscore = 0, pads = 0, spaces = 0, others = 0
    var notHex = 0, hexDigits = 0, lineBreaks = 0
    var changes = 0

    /// One pass that only counts bytes (a histogram) and class changes between letters,
    /// without branches on the data; the class totals are summed from the histogram.
    init(_ text: UnsafeBufferPointer<UInt8>) {
        var histogram = [Int](repeating: 0, count: 256)
        var changes = 0
        Self.classes.withUnsafeBufferPointer { table in
            histogram.withUnsafeMutableBufferPointer { counts in
                var last: UInt8 = 0xFF
                for byte in text {
                    counts[Int(byte)] &+= 1
                    let cls = table[Int(byte)] & 7
                    let isLetter = cls <= Self.digit
                    changes &+= isLetter && cls != last ? 1 : 0
                    last = isLetter ? cls : last
                }
            }
        }
        // The first letter is counted as a change from "none".
        self.changes = max(0, changes - 1)
        for (byte, count) in histogram.enumerated() where count > 0 {
            let entry = Self.classes[byte]
            if entry & Self.hexFlag != 0 { hexDigits += count }
            switch entry & 7 {
            case Self.upper, Self.lower, Self.digit:
                letters += count
                if entry & Self.hexFlag == 0 { notHex += count }
            case Self.plusSlash: plusSlash += count; notHex += count
            case Self.dashUnderscore: dashUnderscore += count; if byte != 0x2D { notHex += count }
            case Self.pad: pads += count; notHex += count
            case Self.space: spaces += count; if byte == 0x0A { lineBreaks += count }
            default: others += count; notHex += count
            }
        }
    }

    /// Base64 alphabet bytes, `-_` and `=` included.
    var alphabet: Int { letters + plusSlash + dashUnderscore + pads }

    /// Enough alphabet, nine in ten non-space bytes in it, and the mixing of case and
    /// digits base64 has (a CSV of codes and amounts, a URL, a path list has the alphabet
    /// but not the mixing).
    var looksLikeBase64: Bool {
        alphabet >= EncodedText.minimumBase64Length && alphabet * 10 >= (alphabet + others) * 9 && isMixed
    }

    /// Case and digits change at one letter in four or more: random base64 changes at
    /// about 0.6, base64 of ASCII text at 0.35 or more; paths, URLs, MIME types under 0.15.
    var isMixed: Bool { changes * 4 >= letters }

    /// Hex digits (and the dashes of a UUID) and whitespace only.
    var isHex: Bool { notHex == 0 }

    /// Only what the strict decoder accepts: the standard alphabet, `=`, whitespace.
    var isStrictAlphabet: Bool { others == 0 && dashUnderscore == 0 }

}
