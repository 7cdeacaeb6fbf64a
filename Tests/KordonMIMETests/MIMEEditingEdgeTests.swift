import Foundation
import KordonCore
@testable import KordonMIME
import Testing

/// Header decoding, unusual shapes and broken input for the editable message.
@Suite(.timeLimit(.minutes(10))) struct MIMEEditingEdgeTests {
    let limits = Limits()
    let parser = MIMEMessageParser(limits: Limits())

    private func message(_ lines: [String], newline: String = "\r\n") -> Data {
        Data(lines.joined(separator: newline).utf8)
    }

    private let headers = ["From: a@example.kz", "To: b@example.ru", "MIME-Version: 1.0"]

    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private func kordonError(_ body: () throws -> Void) -> KordonError? {
        do { try body() } catch let error as KordonError { return error } catch { return nil }
        return nil
    }

    // MARK: - RFC 2047

    @Test(arguments: [
        // GMime 3.2.13 reads this one as "Hello" (jstedfast/gmime#133).
        ("=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=", "Hello world"),
        ("=?utf-8?q?caf=C3?=\r\n =?utf-8?q?=A9_ok?=", "café ok"),                 // a character split between words
        ("=?windows-1251?B?z/Do4uXy?= мир", "Привет мир"),
        ("=?koi8-r?Q?=F0=D2=C9=D7=C5=D4?=", "Привет"),
        ("plain text, =?utf-8*ru?b?0JTQodCf?= inside", "plain text, ДСП inside"),  // RFC 2231 language
        ("=?utf-8?b?MDYxMg==?= =?utf-8?b?MTE2MDAwMTI=?=", "061211600012"),
        ("  folded\r\n\tline  ", "folded\tline"),
        ("=?bogus?q?not a word?= =?utf-8?x?abc?=", "=?bogus?q?not a word?= =?utf-8?x?abc?="),
        ("=?no-such-charset?q?ID_42?=", "ID 42"),
    ])
    func headerTextIsDecoded(raw: String, decoded: String) {
        #expect(RFC2047.decode(Data(raw.utf8)) == decoded)
    }

    @Test func rawEightBitHeaderIsUTF8OrWindows1251() {
        #expect(RFC2047.decode(Data([0x20] + Array("Пр ДСП".utf8))) == "Пр ДСП")
        #expect(RFC2047.decode(Data([0x20, 0xC4, 0xD1, 0xCF, 0x20] + Array("=?utf-8?q?=D0=94?=".utf8))) == "ДСП Д")
    }

    @Test func undeclaredEightBitBodyIsUTF8OrWindows1251() throws {
        let utf8 = Data((headers.joined(separator: "\r\n") + "\r\nContent-Type: text/plain\r\n\r\nСекретно\r\n").utf8)
        let cp1251 = Data((headers.joined(separator: "\r\n") + "\r\nContent-Type: text/plain\r\n\r\n").utf8)
            + Data([0xD1, 0xE5, 0xEA, 0xF0, 0xE5, 0xF2, 0xED, 0xEE, 0x0D, 0x0A])
        let declaredUTF8 = Data((headers.joined(separator: "\r\n") + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").utf8)
            + Data([0xD1, 0xE5, 0x0D, 0x0A])
        for (data, expected) in [(utf8, "Секретно\r\n"), (cp1251, "Секретно\r\n"), (declaredUTF8, "\u{FFFD}\u{FFFD}\r\n")] {
            let edited = try MIMEEditableMessage(parsing: data, limits: limits)
            let body = try #require(edited.textSites.first { $0.kind == .body })
            #expect(string(edited.text(at: body)) == expected)
        }
    }

    @Test func splitIdentifierInASubjectIsFound() throws {
        // What a sender hiding a number from GMime-based filters would write.
        let data = message(headers + ["Subject: =?UTF-8?B?SUlOIA==?= =?UTF-8?B?MDYxMjExNjAwMDEy?=", "", "body", ""])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let subject = try #require(edited.textSites.first { $0.kind == .header("Subject") })
        #expect(string(edited.text(at: subject)) == "IIN 061211600012")
    }

    // MARK: - Transfer encoding

    @Test func sevenBitSafetyFollowsRFC2045() {
        #expect(MIMEBodyEncoding.isSevenBitSafe(Data("line\r\nline\n".utf8)))
        #expect(!MIMEBodyEncoding.isSevenBitSafe(Data("0612••••0012".utf8)))
        #expect(!MIMEBodyEncoding.isSevenBitSafe(Data("bare\rCR".utf8)))
        #expect(!MIMEBodyEncoding.isSevenBitSafe(Data([0x41, 0x00])))
        #expect(MIMEBodyEncoding.isSevenBitSafe(Data(repeating: 0x41, count: 998)))
        #expect(!MIMEBodyEncoding.isSevenBitSafe(Data(repeating: 0x41, count: 999)))
        #expect(MIMEBodyEncoding.replacement(for: .base64, content: Data("•".utf8)) == nil)
        #expect(MIMEBodyEncoding.replacement(for: .identity, content: Data("•".utf8)) == .quotedPrintable)
        #expect(MIMEBodyEncoding.replacement(for: .absent, content: Data("ascii".utf8)) == nil)
        #expect(MIMEBodyEncoding.replacement(for: .unknown, content: Data("ascii".utf8)) == .quotedPrintable)
    }

    // MARK: - Shapes

    @Test func repeatedAndPartHeadersAreSeparateSites() throws {
        let data = message(headers + [
            "Subject: one", "Comments: first", "Comments: second", "X-Ref: KZ-1",
            "Content-Type: text/plain; charset=utf-8", "Content-Description: IIN 061211600012", "", "text", "",
        ])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let described = edited.textSites.map { site -> String in
            guard case .header(let name) = site.kind else { return "\(site.part) body" }
            return "\(site.part) \(name)#\(site.occurrence) \(string(edited.text(at: site)))"
        }
        #expect(described == [
            "message Subject#0 one", "message Comments#0 first", "message Comments#1 second", "message X-Ref#0 KZ-1",
            "mime/1 Content-Description#0 IIN 061211600012", "mime/1 body",
        ])
        let second = try #require(edited.textSites.first { $0.kind == .header("Comments") && $0.occurrence == 1 })
        try edited.setText(at: second, to: Array("sec\r\nond".utf8))
        let reread = try MIMEEditableMessage(parsing: try edited.serialize(), limits: limits)
        #expect(reread.textSites.filter { $0.kind == .header("Comments") }.map { string(reread.text(at: $0)) } == ["first", "sec ond"])
    }

    @Test func unixLineBreaksAreKept() throws {
        let data = message(headers + ["Subject: x", "Content-Type: text/plain", "", "IIN 061211600012", ""], newline: "\n")
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let body = try #require(edited.textSites.first { $0.kind == .body })
        #expect(string(edited.text(at: body)) == "IIN 061211600012\n")
        try edited.setText(at: body, to: Array("IIN ••••\n".utf8))
        let output = try edited.serialize()
        #expect(!output.contains(0x0D))
        #expect(String(decoding: output, as: UTF8.self).contains("Content-Transfer-Encoding: quoted-printable\n"))
        #expect(parser.parse(output).leaf("mime/1")?.part.data == Data("IIN ••••\n".utf8))
        #expect(string(try MIMEEditableMessage(parsing: output, limits: limits).text(at: body)) == "IIN ••••\n")
    }

    @Test func preambleIsASiteAndCanBeRewritten() throws {
        let data = message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "Note: IIN 061211600012", "--XYZ", "Content-Type: text/plain", "", "first", "--XYZ--", "",
        ])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let preamble = try #require(edited.textSites.first { $0.part.description == "mime/preamble" })
        #expect(string(edited.text(at: preamble)).contains("061211600012"))
        try edited.setText(at: preamble, to: Array("Note: IIN 0612••••0012".utf8))
        let output = try edited.serialize()
        #expect(parser.parse(output).paths == ["mime/preamble", "mime/1"])
        let rewritten = string(Array(try #require(parser.parse(output).leaf("mime/preamble")).part.data))
        #expect(rewritten.contains("0612••••0012"))
    }

    @Test func unknownCharsetBodyIsItsRawBytes() throws {
        let data = message(headers + ["Content-Type: text/plain; charset=x-kordon-unknown", "", "IIN 061211600012", ""])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let body = try #require(edited.textSites.first { $0.kind == .body })
        #expect(string(edited.text(at: body)) == "IIN 061211600012\r\n")
    }

    @Test func jsonAndNamedOctetStreamTablesAreBodies() throws {
        let data = try PythonMail.build("""
            m = new()
            m.set_content('see attached\\n')
            m.add_attachment(b'{"iin": "061211600012"}', maintype='application', subtype='json', filename='a.json')
            m.add_attachment(b'iin\\r\\n061211600012\\r\\n', maintype='application', subtype='octet-stream', filename='t.CSV')
            m.add_attachment(b'iin 061211600012', maintype='application', subtype='octet-stream', filename='t.bin')
            m.add_attachment(XML, maintype='text', subtype='xml', filename='d.xml')
            emit(m)
            """)
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        #expect(edited.textSites.filter { $0.kind == .body }.map(\.part.description) == ["mime/1", "mime/2", "mime/3"])
    }

    // MARK: - Failures

    @Test func brokenInputThrowsOrParsesButNeverCrashes() {
        #expect(kordonError { _ = try MIMEEditableMessage(parsing: Data(), limits: limits) }?.code == "mime.unparsable")
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let garbage = Data((0..<4096).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        })
        if let edited = try? MIMEEditableMessage(parsing: garbage, limits: limits) {
            for site in edited.textSites { _ = edited.text(at: site) }
            #expect(throws: Never.self) { _ = try edited.serialize() }
        }
        var small = Limits()
        small.maxMessageSize = 10
        #expect(kordonError { _ = try MIMEEditableMessage(parsing: message(headers + ["", "body"]), limits: small) }?.code
            == "mime.too-large")
    }

    @Test func tooManyPartsThrowsRatherThanListingSomeSites() {
        var small = Limits()
        small.maxMIMEParts = 3
        var lines = headers + ["Content-Type: multipart/mixed; boundary=\"XYZ\"", ""]
        for index in 0..<5 { lines += ["--XYZ", "Content-Type: text/plain", "", "part \(index)"] }
        lines += ["--XYZ--", ""]
        #expect(kordonError { _ = try MIMEEditableMessage(parsing: message(lines), limits: small) }?.code == "mime.limit")
    }

    @Test func badEditsThrow() throws {
        let data = message(headers + ["Subject: s", "Content-Type: text/plain", "", "text", ""])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let body = try #require(edited.textSites.first { $0.kind == .body })
        #expect(kordonError { try edited.setText(at: body, to: [0xFF, 0xFE]) }?.code == "mime.edit-invalid-text")
        let stranger = MIMETextSite(kind: .body, part: PartPath.message.mime([9]), contentType: "text/plain")
        #expect(kordonError { try edited.setText(at: stranger, to: []) }?.code == "mime.edit-unknown-site")
        #expect(edited.text(at: stranger).isEmpty)
        #expect(kordonError { try edited.replaceBody(of: PartPath.message.mime([2]), with: Data()) }?.code == "mime.edit-unknown-part")
        #expect(!edited.isModified)
    }

    @Test func textThatBreaksTheStructureIsRefused() throws {
        let data = message(headers + [
            "Content-Type: multipart/mixed; boundary=\"XYZ\"", "",
            "--XYZ", "Content-Type: text/plain", "", "first",
            "--XYZ", "Content-Type: text/plain", "", "second", "--XYZ--", "",
        ])
        let edited = try MIMEEditableMessage(parsing: data, limits: limits)
        let first = try #require(edited.textSites.first { $0.kind == .body })
        try edited.setText(at: first, to: Array("first\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\nsmuggled".utf8))
        #expect(kordonError { _ = try edited.serialize() }?.code == "mime.edit-structure")
    }
}
