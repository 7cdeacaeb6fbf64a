import Foundation
import KordonCore
@testable import KordonMIME
import Testing

/// How the parser decodes well-formed messages: paths, types, names, bytes.
@Suite(.timeLimit(.minutes(10))) struct MIMEStructureTests {
    let parser = MIMEMessageParser(limits: Limits())

    @Test func mixedMessageYieldsDecodedLeavesInOrder() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content('Hello, see attached.\\n')
            m.add_attachment(XML, maintype='application', subtype='xml', filename='decl.xml')
            m.add_attachment(binary(), maintype='application', subtype='pdf', filename='scan.pdf')
            emit(m)
            """)
        #expect(MIMEMessageParser.looksLikeMIME(message))
        let result = parser.parse(message)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1", "mime/2", "mime/3"])
        let text = try #require(result.leaf("mime/1"))
        #expect(text.part.contentType == "text/plain")
        #expect(text.part.data == Data("Hello, see attached.\r\n".utf8))
        #expect(!text.isXML)
        let xml = try #require(result.leaf("mime/2"))
        #expect(xml.part.contentType == "application/xml")
        #expect(xml.part.filename == "decl.xml")
        #expect(xml.isXML && !xml.isXOPRoot)
        #expect(xml.part.data == PythonMail.xml)
        let pdf = try #require(result.leaf("mime/3"))
        #expect(pdf.part.contentType == "application/pdf")
        #expect(pdf.part.filename == "scan.pdf")
        #expect(!pdf.isXML)
        #expect(pdf.part.data == PythonMail.binary)
    }

    @Test func singlePartMessageIsMimeOne() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content(XML, maintype='text', subtype='xml', cte='base64')
            emit(m)
            """)
        let result = parser.parse(message)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1"])
        #expect(result.leaves.first?.isXML == true)
        #expect(result.leaves.first?.part.data == PythonMail.xml)
    }

    @Test func quotedPrintableTextIsDecoded() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content('Таможенная декларация = 100% готова, строка достаточно длинная чтобы её перенесли при кодировании.\\n', cte='quoted-printable')
            emit(m)
            """)
        #expect(String(decoding: message, as: UTF8.self).contains("=D0=A2"))
        let result = parser.parse(message)
        #expect(result.findings.isEmpty)
        let text = String(decoding: try #require(result.leaves.first).part.data, as: UTF8.self)
        #expect(text == "Таможенная декларация = 100% готова, строка достаточно длинная чтобы её перенесли при кодировании.\r\n")
    }

    @Test func attachedMessageChildrenAreNumberedUnderIt() throws {
        let message = try PythonMail.build("""
            inner = new()
            del inner['Subject']
            inner['Subject'] = 'inner'
            inner.set_content('inner text\\n')
            inner.add_attachment(XML, maintype='application', subtype='xml', filename='inner.xml')
            m = new()
            m.set_content('outer text\\n')
            m.add_attachment(inner)
            m.add_attachment(binary(), maintype='application', subtype='octet-stream', filename='last.bin')
            emit(m)
            """)
        let result = parser.parse(message)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1", "mime/2/1", "mime/2/2", "mime/3"])
        #expect(result.leaf("mime/2/1")?.part.data == Data("inner text\r\n".utf8))
        #expect(result.leaf("mime/2/2")?.part.data == PythonMail.xml)
        #expect(result.leaf("mime/2/2")?.isXML == true)
        #expect(result.leaf("mime/3")?.part.data == PythonMail.binary)
    }

    @Test func attachedSinglePartMessageBodyIsOneBelowIt() throws {
        let message = try PythonMail.build("""
            inner = new()
            inner.set_content('just text\\n')
            m = new()
            m.set_content('outer\\n')
            m.add_attachment(inner)
            emit(m)
            """)
        #expect(parser.parse(message).paths == ["mime/1", "mime/2/1"])
    }

    @Test func alternativeNestedInMixed() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content('plain\\n')
            m.add_alternative('<p>html</p>\\n', subtype='html')
            m.add_attachment(XML, maintype='application', subtype='xml', filename='d.xml')
            emit(m)
            """)
        let result = parser.parse(message)
        #expect(result.paths == ["mime/1/1", "mime/1/2", "mime/2"])
        #expect(result.leaf("mime/1/2")?.part.contentType == "text/html")
        #expect(result.leaf("mime/2")?.isXML == true)
    }

    @Test func rfc2231CyrillicFilenameIsDecoded() throws {
        let message = try PythonMail.build("""
            m = new()
            m.set_content('see attached\\n')
            m.add_attachment(XML, maintype='application', subtype='octet-stream', filename='Декларация.xml')
            emit(m)
            """)
        #expect(String(decoding: message, as: UTF8.self).contains("filename*0*=utf-8''"))
        let leaf = try #require(parser.parse(message).leaf("mime/2"))
        #expect(leaf.part.filename == "Декларация.xml")
        #expect(leaf.isXML)
        #expect(leaf.part.contentType == "application/octet-stream")
    }

    @Test func rfc2047CyrillicFilenameIsDecoded() throws {
        let message = try PythonMail.build("""
            from email.header import Header
            # Python would re-encode a 2047 file name as RFC 2231; splice the raw 2047 form in.
            name = Header('Счёт-фактура.pdf', 'utf-8').encode().encode('ascii')
            m = new()
            m.set_content('see attached\\n')
            m.add_attachment(binary(), maintype='application', subtype='pdf', filename='PLACEHOLDER.pdf')
            sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP).replace(b'PLACEHOLDER.pdf', name))
            """)
        #expect(String(decoding: message, as: UTF8.self).contains("=?utf-8?b?"))
        let leaf = try #require(parser.parse(message).leaf("mime/2"))
        #expect(leaf.part.filename == "Счёт-фактура.pdf")
        #expect(leaf.part.data == PythonMail.binary)
    }

    @Test func mtomPackageMarksRootAndKeepsContentIDs() throws {
        let message = try PythonMail.build("""
            rel = MIMEMultipart('related', type='application/xop+xml', start='<root.message@kordon>', **{'start-info': 'application/soap+xml'})
            rel['From'] = 'a@example.kz'
            rel['Subject'] = 'MTOM'
            att = MIMEApplication(binary(), 'octet-stream')
            att['Content-ID'] = '<attachment-1@kordon>'
            rel.attach(att)
            root = MIMEBase('application', 'xop+xml', charset='UTF-8', type='application/soap+xml')
            root.set_payload(b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:attachment-1@kordon"/></soap:Body></soap:Envelope>')
            email.encoders.encode_7or8bit(root)
            root['Content-ID'] = '<root.message@kordon>'
            rel.attach(root)
            sys.stdout.buffer.write(rel.as_bytes(policy=email.policy.SMTP))
            """)
        let result = parser.parse(message)
        #expect(result.findings.isEmpty)
        #expect(result.paths == ["mime/1", "mime/2"])
        let attachment = try #require(result.leaf("mime/1"))
        #expect(attachment.contentID == "attachment-1@kordon")
        #expect(!attachment.isXOPRoot)
        #expect(attachment.part.data == PythonMail.binary)
        let root = try #require(result.leaf("mime/2"))
        #expect(root.isXOPRoot && root.isXML)
        #expect(root.contentID == "root.message@kordon")
    }

    @Test func xopRootIsFoundByStartParameterWhateverItsType() throws {
        let message = try PythonMail.build("""
            rel = MIMEMultipart('related', type='application/xop+xml', start='<r@k>')
            rel['From'] = 'a@example.kz'
            first = MIMEApplication(b'blob', 'octet-stream')
            first['Content-ID'] = '<a@k>'
            rel.attach(first)
            second = MIMEApplication(b'<?xml version="1.0"?><e/>', 'soap+xml')
            second['Content-ID'] = '<r@k>'
            rel.attach(second)
            sys.stdout.buffer.write(rel.as_bytes(policy=email.policy.SMTP))
            """)
        let result = parser.parse(message)
        #expect(result.leaves.map(\.isXOPRoot) == [false, true])
        #expect(result.leaves.map(\.isXML) == [false, true])
    }

    @Test func xopRootDefaultsToFirstPartWithoutStart() throws {
        let message = try PythonMail.build("""
            rel = MIMEMultipart('related', type='application/xop+xml')
            rel['From'] = 'a@example.kz'
            rel.attach(MIMEApplication(b'<?xml version="1.0"?><e/>', 'soap+xml'))
            rel.attach(MIMEApplication(b'blob', 'octet-stream'))
            sys.stdout.buffer.write(rel.as_bytes(policy=email.policy.SMTP))
            """)
        #expect(parser.parse(message).leaves.map(\.isXOPRoot) == [true, false])
    }

    /// The content decides, not the label; a specific label over XML content is a lie worth reporting.
    @Test func xmlIsSniffedByContentWhateverTheLabel() {
        let declaration = Data("\u{FEFF}  <?xml version=\"1.0\"?><a/>".utf8)
        let utf16 = Data([0xFF, 0xFE] + Array("<?xml ".utf8).flatMap { [$0, 0] })
        #expect(MIMEText.isXML(mediaType: "application/octet-stream", filename: nil, body: declaration))
        #expect(MIMEText.isXML(mediaType: "text/plain", filename: nil, body: utf16))
        #expect(MIMEText.form(mediaType: "image/png", filename: nil, body: declaration) == .xmlDespiteLabel)
        #expect(MIMEText.form(mediaType: "application/octet-stream", filename: nil, body: declaration) == .xml)
        #expect(MIMEText.isXML(mediaType: "application/soap+xml", filename: nil, body: Data()))
        #expect(MIMEText.isXML(mediaType: "application/pdf", filename: "X.XML", body: Data()))
        #expect(!MIMEText.isXML(mediaType: "text/plain", filename: "note.txt", body: Data("hello <?xml".utf8)))
    }
}
