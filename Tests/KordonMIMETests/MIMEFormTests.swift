import Foundation
import KordonCore
@testable import KordonMIME
import Testing

/// What a mail reader parses as MIME is MIME: line ends of every kind, header blocks of
/// any length, headerless multipart bodies; and what readers disagree on is held.
@Suite(.timeLimit(.minutes(10))) struct MIMEFormTests {
    let parser = MIMEMessageParser(limits: Limits())

    func message() throws -> Data {
        try PythonMail.build("""
            m = new()
            m.set_content('body\\n')
            m.add_attachment(binary(), maintype='application', subtype='octet-stream', filename='a.bin')
            emit(m)
            """)
    }

    @Test func bareCRMessageIsParsedLikeItsCRLFOriginal() throws {
        let crlf = try message()
        let cr = Data(String(decoding: crlf, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\r").utf8)
        let sniff = MIMEHeaderSniffer.sniff(cr)
        #expect(sniff.shape == .message)
        #expect(sniff.bareCRLineEnds)
        let result = parser.parse(cr)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1", "mime/2"])
        #expect(result.leaf("mime/2")?.part.data == PythonMail.binary)
    }

    /// A mail reader shows a text/plain body as text, tags and all: only a declaration or a
    /// namespace (which every agreed format has) makes it a document for the XML stage.
    @Test(arguments: [("<p>Hello</p>\n", false), ("<note>Hello</note>\n", false),
                      ("<?xml version=\"1.0\"?><note>Hello</note>", true),
                      ("<GoodsDeclaration xmlns=\"urn:EEC:R:055:GoodsDeclaration:v1.0.0\"/>", true)])
    func plainTextIsXMLOnlyWithADeclarationOrANamespace(_ body: String, _ isXML: Bool) {
        #expect(MIMEText.isXML(mediaType: "text/plain", filename: nil, body: Data(body.utf8)) == isXML)
    }

    @Test func bareCRBecomesCRLFAndNothingElseChanges() {
        #expect(MIMEInput.crlfForBareCR(Data("a\rb\r\nc\n\r".utf8)) == Data("a\r\nb\r\nc\n\r\n".utf8))
        #expect(MIMEInput.crlfForBareCR(Data()) == Data())
    }

    @Test func headerlessMultipartGetsASyntheticHeader() throws {
        let body = Data("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"d.xml\"\r\nContent-Type: application/xml\r\n\r\n<a/>\r\n--XyZ--\r\n".utf8)
        #expect(MIMEHeaderSniffer.shape(of: body) == .headerlessMultipart(boundary: "XyZ"))
        let result = parser.parse(body)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1"])
        #expect(result.leaf("mime/1")?.isXML == true)
        #expect(result.leaf("mime/1")?.part.data == Data("<a/>".utf8))
        let input = MIMEInput(body)
        #expect(input.output(fromWritten: input.message) == body)
    }

    @Test func headerlessMultipartAfterABlankPreambleIsStillAMultipart() {
        let body = Data("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nvalue\r\n--XyZ--\r\n".utf8)
        #expect(MIMEHeaderSniffer.shape(of: body) == .headerlessMultipart(boundary: "XyZ"))
        let result = parser.parse(body)
        #expect(result.findings.isEmpty)
        #expect(result.leaf("mime/1")?.part.data == Data("value".utf8))
    }

    @Test func aDelimiterWithoutPartHeadersIsNotAMultipart() {
        #expect(!MIMEMessageParser.looksLikeMIME(Data("--\n".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("--- a list\n- item\n".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("--boundary\r\nnot a header\r\n".utf8)))
    }

    @Test func leadingBlankOrContinuationLinesAreMalformedMail() throws {
        for prefix in ["\r\n", " X-Lead: 1\r\n", "\tfolded\r\n"] {
            let data = Data(prefix.utf8) + (try message())
            #expect(MIMEHeaderSniffer.shape(of: data) == .malformedHeaders, "\(prefix.debugDescription)")
            let result = parser.parse(data)
            #expect(result.rules.contains("mime.malformed-header"))
            // GMime is given the message from its first field, so the attachment is still decoded.
            #expect(result.leaf("mime/2")?.part.data == PythonMail.binary)
        }
    }

    /// `boundary="` lost from the Content-Type while the body keeps its delimiters: readers that
    /// take the first delimiter for the boundary see parts; held. A plain body is not.
    @Test func multipartThatLostItsBoundaryIsHeldWhenItsBodyHasParts() {
        let head = "From: a@example.kz\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; ==Q==\"\n\n"
        let parts = "--==Q==\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nWDVP\n--==Q==--\n"
        #expect(parser.parse(Data((head + parts).utf8)).rules.contains("mime.no-boundary"))
        #expect(!parser.parse(Data((head + "just text\n").utf8)).rules.contains("mime.no-boundary"))
    }

    @Test func contentTransferEncodingAloneMarksMail() {
        #expect(MIMEMessageParser.looksLikeMIME(Data("X-A: 1\nContent-Transfer-Encoding: base64\n\nWDVP\n".utf8)))
    }

    @Test func bareCRAtABoundaryOfACRLFMessageIsHeld() throws {
        let crlf = try message()
        let text = String(decoding: crlf, as: UTF8.self)
        let boundary = try #require(text.range(of: "boundary=\"")).upperBound
        let name = String(text[boundary...].prefix { $0 != "\"" })
        let broken = Data(text.replacingOccurrences(of: "--\(name)\r\n", with: "--\(name)\r").utf8)
        #expect(parser.parse(broken).rules.contains("mime.line-endings"))
        #expect(!parser.parse(crlf).rules.contains("mime.line-endings"))
    }

    @Test func xmlUnderALyingLabelIsInspectedAndReported() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content('body\\n')
            m.add_attachment(XML, maintype='application', subtype='pdf', filename='invoice.pdf')
            emit(m)
            """)
        let result = parser.parse(message)
        #expect(result.leaf("mime/2")?.isXML == true)
        let mismatch = result.findings.filter { $0.rule == "mime.type-mismatch" }
        #expect(mismatch.map(\.part) == ["mime/2"])
        #expect(mismatch.map(\.action) == [.report])
        #expect(mismatch.map(\.stage) == [.policy])
    }

    @Test func htmlBodiesStayHTML() {
        #expect(MIMEText.form(mediaType: "text/html", filename: nil, body: Data("<html><body>hi</body></html>".utf8)) == .notXML)
        #expect(MIMEText.form(mediaType: "text/html", filename: nil,
                              body: Data("<?xml version=\"1.0\"?><GoodsDeclaration xmlns=\"urn:x\"/>".utf8)) == .xmlDespiteLabel)
    }
}
