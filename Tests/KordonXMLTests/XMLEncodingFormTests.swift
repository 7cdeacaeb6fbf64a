import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// Which encoding forms are recognised as XML (``XMLSniffer``), which ``XMLInput`` reads
/// and which it refuses: every form libxml2 reads is XML, and one it cannot read is refused,
/// never taken for an opaque file.
@Suite("XML encoding forms", .timeLimit(.minutes(10)))
struct XMLEncodingFormTests {
    static let document = "<?xml version=\"1.0\" encoding=\"UTF-32\"?>\n<a xmlns=\"urn:x\">Восток 𝔘</a>"

    /// `text` in UTF-32, optionally with a byte order mark.
    static func utf32(_ text: String, littleEndian: Bool, byteOrderMark: Bool) -> Data {
        var bytes: [UInt8] = []
        for scalar in ((byteOrderMark ? "\u{FEFF}" : "") + text).unicodeScalars {
            let v = scalar.value
            let be = [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
            bytes += littleEndian ? be.reversed() : be
        }
        return Data(bytes)
    }

    @Test("UTF-32 in both byte orders, with or without BOM, is sniffed, transcoded and parsed", arguments: [
        (true, true), (true, false), (false, true), (false, false),
    ])
    func utf32IsRead(littleEndian: Bool, byteOrderMark: Bool) throws {
        let data = Self.utf32(Self.document, littleEndian: littleEndian, byteOrderMark: byteOrderMark)
        let sniff = try #require(XMLSniffer.sniff(data))
        #expect(sniff.form == .utf32(littleEndian: littleEndian))
        #expect(sniff.byteOrderMarkLength == (byteOrderMark ? 4 : 0))
        #expect(sniff.hasDeclaration)
        let prepared = try XMLInput.prepare(data, limits: Limits()).get()
        #expect(prepared.transcodedFrom == .utf32(littleEndian: littleEndian))
        #expect(prepared.bytes == Data(Self.document.utf8))
        #expect(try XMLDocument(parsing: prepared).root?.localName == "a")
    }

    @Test("a sanitized UTF-32 document is written back in UTF-32, BOM kept")
    func utf32RoundTrips() throws {
        let data = Self.utf32(Self.document, littleEndian: true, byteOrderMark: true)
        let prepared = try XMLInput.prepare(data, limits: Limits()).get()
        let written = XMLInput.encode(Array(prepared.bytes), as: try #require(prepared.transcodedFrom), byteOrderMark: prepared.hadByteOrderMark)
        #expect(written == data)
    }

    @Test("UTF-16 and UTF-32 that start with whitespace are still recognised")
    func leadingWhitespaceInWideForms() {
        let utf16BE = Data("\n<a/>".utf16.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] })
        #expect(XMLSniffer.sniff(utf16BE)?.form == .utf16(littleEndian: false))
        #expect(XMLSniffer.sniff(Self.utf32(" <a/>", littleEndian: true, byteOrderMark: false))?.form == .utf32(littleEndian: true))
    }

    /// Each 4-byte unit of `bytes` with its bytes taken in `order`.
    static func reordered(_ bytes: [UInt8], _ order: [Int]) -> Data {
        var output: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: 4) {
            for offset in order { output.append(bytes[start + offset]) }
        }
        return Data(output)
    }

    @Test("any amount of whitespace may come before the root element, in every form")
    func longLeadingWhitespace() {
        let text = String(repeating: " \n", count: 10_000) + "<a/>"
        #expect(XMLSniffer.sniff(Data(text.utf8))?.form == .ascii)
        #expect(XMLSniffer.sniff(Self.utf32(text, littleEndian: false, byteOrderMark: false))?.form == .utf32(littleEndian: false))
        #expect(XMLSniffer.isXMLDocument(Self.utf32(text, littleEndian: true, byteOrderMark: true)))
    }

    @Test("EBCDIC and UCS-4 in the unusual orders are XML, and refused with xml.encoding")
    func unreadableFormsAreRefused() {
        let ebcdic = Data([0x4C, 0x6F, 0xA7, 0x94, 0x93, 0x40])  // "<?xml " in IBM037
        let be = Array(Self.utf32("<a/>", littleEndian: false, byteOrderMark: false))
        let order2143 = Self.reordered(be, [1, 0, 3, 2])
        let order3412 = Self.reordered(be, [2, 3, 0, 1])
        #expect(XMLSniffer.sniff(ebcdic)?.form == .ebcdic)
        for data in [ebcdic, order2143, order3412] {
            #expect(XMLSniffer.sniff(data) != nil)
            guard case .failure(let refusal) = XMLInput.prepare(data, limits: Limits()) else {
                Issue.record("\(Array(data.prefix(4))) was accepted")
                continue
            }
            #expect(refusal.rule == "xml.encoding")
        }
    }

    @Test("binary data with NULs around a 0x3C byte is not taken for wide XML")
    func binaryIsNotWideXML() {
        // An MP4 whose first box is 60 bytes long: 00 00 00 3C 'ftyp'.
        let mp4 = Data([0x00, 0x00, 0x00, 0x3C, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6F, 0x6D])
        #expect(XMLSniffer.sniff(mp4) == nil)
        #expect(XMLSniffer.sniff(Data([0x3C, 0x00, 0x20, 0x00]))?.form == .ascii)  // '<' then a space: not UTF-16 markup
        #expect(XMLSniffer.sniff(Data("%PDF-1.4\n<<>>".utf8)) == nil)
    }

    @Test("a declaration behind NULs or a stray byte order mark is XML with leading junk, and refused")
    func junkBeforeDeclaration() throws {
        for prefix: [UInt8] in [[0, 0], [0xFF, 0xFE], [0xEF, 0xBB, 0xBF, 0x00]] {
            let data = Data(prefix) + Data("<?xml version=\"1.0\"?><a/>".utf8)
            let sniff = try #require(XMLSniffer.sniff(data), "\(prefix)")
            #expect(sniff.hasLeadingJunk, "\(prefix)")
            #expect(!XMLInput.prepare(data, limits: Limits()).isSuccess, "\(prefix)")
        }
        #expect(XMLSniffer.sniff(Data("abc<?xml version=\"1.0\"?><a/>".utf8)) == nil)  // printable text first: not XML to any reader
    }

    @Test("a part is XML by content when it opens with a declaration or ends with markup")
    func partContent() {
        #expect(XMLSniffer.isXMLDocument(Data("<a>1</a>\n".utf8)))
        #expect(XMLSniffer.isXMLDocument(Data("<?xml version=\"1.0\"?><a>".utf8)))
        #expect(XMLSniffer.isXMLDocument(Self.utf32("<a/>  ", littleEndian: false, byteOrderMark: true)))
        #expect(!XMLSniffer.isXMLDocument(Data("<https://example.kz> see the link".utf8)))
        #expect(!XMLSniffer.isXMLDocument(Data("plain text".utf8)))
    }
}
