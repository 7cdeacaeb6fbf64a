import Foundation
import KordonCore
import KordonMIME
import Testing

/// `looksLikeMIME`: mail is recognized by its header block, nothing else is.
@Suite(.timeLimit(.minutes(10))) struct MIMESniffingTests {
    @Test func realEmailLooksLikeMIME() throws {
        let message = try PythonMail.build("""
            m = new()
            del m['Subject']
            m['Subject'] = 'A subject long enough to be folded by the generator because it keeps going on and on and on'
            m.set_content('body\\n')
            emit(m)
            """)
        #expect(MIMEMessageParser.looksLikeMIME(message))
    }

    @Test func mboxFromLineMessageLooksLikeMIMEAndParses() throws {
        let body = try PythonMail.build("""
            m = new()
            m.set_content('body\\n')
            m.add_attachment(XML, maintype='application', subtype='xml', filename='d.xml')
            emit(m)
            """)
        let mbox = Data("From kz-gateway@customs.example.kz Thu Nov 26 06:00:00 2026\n".utf8) + body
        #expect(MIMEMessageParser.looksLikeMIME(mbox))
        let result = MIMEMessageParser(limits: Limits()).parse(mbox)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1", "mime/2"])
        #expect(result.leaf("mime/2")?.part.data == PythonMail.xml)
    }

    @Test func xmlIsNotMIME() {
        #expect(!MIMEMessageParser.looksLikeMIME(PythonMail.xml))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("<a:b xmlns:a=\"urn:x\">\n\nFrom: x\n".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("\u{FEFF}<?xml version=\"1.0\"?><a/>".utf8)))
    }

    @Test func pdfIsNotMIME() {
        #expect(!MIMEMessageParser.looksLikeMIME(Data("%PDF-1.4\n%\u{E2}\u{E3}\n1 0 obj\n<<>>\nendobj\n".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(PythonMail.binary))
    }

    @Test func headerLikeTextWithoutMailFieldsOrBodyIsNotMIME() {
        #expect(!MIMEMessageParser.looksLikeMIME(Data("Foo: bar".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("Foo: bar\n".utf8)))
        #expect(!MIMEMessageParser.looksLikeMIME(Data("Subject: hi\r\nFrom: a@b".utf8)))  // no blank line
        #expect(!MIMEMessageParser.looksLikeMIME(Data("Foo: bar\n\nbody".utf8)))          // no mail field
        #expect(!MIMEMessageParser.looksLikeMIME(Data(" Subject: hi\n\nbody".utf8)))      // continuation first
        #expect(!MIMEMessageParser.looksLikeMIME(Data()))
    }

    /// Mail header fields broken by a line that is no header: readers disagree on where
    /// the headers end, so it is handled as mail and quarantined, not passed as a file.
    @Test func brokenHeaderBlockIsMalformedMail() {
        let data = Data("Subject: hi\nnot a header\n\nbody".utf8)
        #expect(MIMEMessageParser.looksLikeMIME(data))
        let result = MIMEMessageParser(limits: Limits()).parse(data)
        #expect(result.findings.map(\.rule) == ["mime.malformed-header"])
        #expect(result.findings.allSatisfy { $0.action == .quarantine })
    }

    @Test func minimalAndFoldedHeadersAreMIME() {
        #expect(MIMEMessageParser.looksLikeMIME(Data("Subject: hi\n\n".utf8)))
        #expect(MIMEMessageParser.looksLikeMIME(Data("X-Custom: 1\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\nbody".utf8)))
        #expect(MIMEMessageParser.looksLikeMIME(Data("Received : from relay\n by host\nTo: Ер <er@example.kz>\n\n".utf8)))
    }

    /// Python's `email` reads a header block of any length; so does the sniffer.
    @Test func aHeaderBlockLongerThan64KBIsReadToItsEnd() {
        let long = Data(("X-Filler: " + String(repeating: "a", count: 70_000) + "\nSubject: hi\n\nbody").utf8)
        #expect(MIMEMessageParser.looksLikeMIME(long))
    }

    /// A NUL in a header value: readers cut the value there or keep it; held as malformed.
    @Test func controlCharacterInAHeaderIsMalformedMail() {
        let data = Data("Subject: h\u{0}i\n\nbody".utf8)
        #expect(MIMEMessageParser.looksLikeMIME(data))
        #expect(MIMEMessageParser(limits: Limits()).parse(data).rules.contains("mime.malformed-header"))
    }
}
