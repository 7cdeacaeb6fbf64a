import Foundation
import KordonCore
import KordonMIME
import Testing

/// How the redaction stage reads and rewrites the text of a real message.
@Suite(.timeLimit(.minutes(10))) struct MIMEEditingTests {
    let limits = Limits()
    let parser = MIMEMessageParser(limits: Limits())

    /// A customs message as Python's `email` package writes it: a UTF-8 quoted-printable
    /// body, a windows-1251 base64 text, a CSV, an XML, an attached message, a PDF.
    static let customsMessage: Data = {
        (try? PythonMail.build("""
            m = new()
            del m['Subject']
            m['Subject'] = 'Декларация № 5 — проверка'
            m['X-Route'] = 'KZ-RU'
            m.set_content('Таможенная декларация = 100% готова, строка достаточно длинная чтобы её перенесли.\\n',
                          cte='quoted-printable')
            m.add_attachment('Привет из Алматы\\r\\nсправка 17\\r\\n'.encode('cp1251'), maintype='text',
                             subtype='plain', filename='note.txt', params={'charset': 'windows-1251'})
            m.add_attachment(b'id;name\\r\\n1;goods\\r\\n', maintype='text', subtype='csv', filename='goods.csv')
            m.add_attachment(XML, maintype='application', subtype='xml', filename='decl.xml')
            inner = new()
            del inner['Subject']
            inner['Subject'] = 'Вложенное письмо'
            inner.set_content('inner text\\n')
            m.add_attachment(inner)
            m.add_attachment(binary(), maintype='application', subtype='pdf', filename='scan.pdf')
            emit(m)
            """)) ?? Data()
    }()

    private func site(_ message: MIMEEditableMessage, _ kind: MIMETextSite.Kind, _ path: String) throws -> MIMETextSite {
        try #require(message.textSites.first { $0.kind == kind && $0.part.description == path })
    }

    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func sitesAreNumberedLikeTheParser() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let listed = message.textSites.map { site -> String in
            switch site.kind {
            case .header(let name): return "\(site.part) \(name) \(site.contentType)"
            case .body: return "\(site.part) body \(site.contentType)"
            }
        }
        #expect(listed == [
            "message Subject message/rfc822",
            "message X-Route message/rfc822",
            "mime/1 body text/plain",
            "mime/2 body text/plain",
            "mime/3 body text/csv",
            "mime/5 Subject message/rfc822",
            "mime/5/1 body text/plain",
        ])
        let leafPaths = Set(parser.parse(Self.customsMessage).paths)
        #expect(leafPaths == ["mime/1", "mime/2", "mime/3", "mime/4", "mime/5/1", "mime/6"])
        for site in message.textSites where site.kind == .body {
            #expect(leafPaths.contains(site.part.description))
        }
        #expect(!message.isModified)
    }

    @Test func nestedAlternativesAndMessagesAreNumberedLikeTheParser() throws {
        let data = try PythonMail.build("""
            inner = new()
            del inner['Subject']
            inner['Subject'] = 'inner'
            inner.set_content('inner plain\\n')
            inner.add_alternative('<p>inner html</p>\\n', subtype='html')
            inner.add_attachment(b'a;b\\r\\n', maintype='application', subtype='csv', filename='t.csv')
            m = new()
            m.set_content('outer plain\\n')
            m.add_alternative('<p>outer html</p>\\n', subtype='html')
            m.add_attachment(inner)
            m.add_attachment(XML, maintype='application', subtype='xml', filename='d.xml')
            emit(m)
            """)
        let message = try MIMEEditableMessage(parsing: data, limits: limits)
        let result = parser.parse(data)
        let textLeaves = result.leaves.filter { !$0.isXML }.map(\.part.path.description)
        let bodies = message.textSites.filter { $0.kind == .body }.map(\.part.description)
        #expect(bodies == textLeaves)
        #expect(bodies == ["mime/1/1", "mime/1/2", "mime/2/1/1", "mime/2/1/2", "mime/2/2"])
        #expect(message.textSites.filter { $0.kind == .header("Subject") }.map(\.part.description) == ["message", "mime/2"])
    }

    @Test func textIsDecodedToUTF8() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        #expect(string(message.text(at: try site(message, .header("Subject"), "message"))) == "Декларация № 5 — проверка")
        #expect(string(message.text(at: try site(message, .header("Subject"), "mime/5"))) == "Вложенное письмо")
        #expect(string(message.text(at: try site(message, .body, "mime/1")))
            == "Таможенная декларация = 100% готова, строка достаточно длинная чтобы её перенесли.\r\n")
        #expect(string(message.text(at: try site(message, .body, "mime/2"))) == "Привет из Алматы\r\nсправка 17\r\n")
        #expect(string(message.text(at: try site(message, .body, "mime/3"))) == "id;name\r\n1;goods\r\n")
    }

    @Test func nonASCIISubjectIsEncodedAndReadBack() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let subject = try site(message, .header("Subject"), "message")
        try message.setText(at: subject, to: Array("Декларация № ••••••0012 — проверка".utf8))
        #expect(message.isModified)
        let output = try message.serialize()
        let headerBlock = try #require(output.firstRange(of: Data("\r\n\r\n".utf8))).lowerBound
        #expect(output[..<headerBlock].allSatisfy { $0 < 0x80 }, "headers stay 7-bit: RFC 2047 encoded")
        #expect(try PythonMail.read(output, "print(m['Subject'], end='')") == "Декларация № ••••••0012 — проверка")
        let reread = try MIMEEditableMessage(parsing: output, limits: limits)
        #expect(string(reread.text(at: subject)) == "Декларация № ••••••0012 — проверка")
        // Only the Subject changed: everything from the first blank line on is as it was.
        let originalBody = try #require(Self.customsMessage.firstRange(of: Data("\r\n\r\n".utf8))).lowerBound
        #expect(output[headerBlock...] == Self.customsMessage[originalBody...])
    }

    @Test func windows1251BodyIsRewrittenAsUTF8KeepingBase64() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let note = try site(message, .body, "mime/2")
        let masked = "Привет из Алматы\r\nсправка ••\r\n"
        try message.setText(at: note, to: Array(masked.utf8))
        #expect(string(message.text(at: note)) == masked)
        let output = try message.serialize()
        #expect(parser.parse(output).leaf("mime/2")?.part.data == Data(masked.utf8))
        let python = try PythonMail.read(output, """
            p = list(m.iter_attachments())[0]
            print(p['Content-Transfer-Encoding'], p.get_content_charset(), p.get_content() == \(pythonLiteral(masked)))
            """)
        #expect(python == "base64 utf-8 True\n")
    }

    @Test func quotedPrintableBodyStaysQuotedPrintable() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let body = try site(message, .body, "mime/1")
        let masked = "Таможенная декларация = 100% готова, ИИН 0612••••0012, строка достаточно длинная чтобы её перенесли.\r\n"
        try message.setText(at: body, to: Array(masked.utf8))
        let output = try message.serialize()
        #expect(parser.parse(output).leaf("mime/1")?.part.data == Data(masked.utf8))
        let python = try PythonMail.read(output, """
            p = m.get_body()
            print(p['Content-Transfer-Encoding'], p.get_content_charset())
            """)
        #expect(python == "quoted-printable utf-8\n")
    }

    @Test func sevenBitBodyWithAMaskBecomesQuotedPrintable() throws {
        let data = try PythonMail.build("""
            m = new()
            m.set_content('IIN 061211600012 in plain ASCII\\n')
            emit(m)
            """)
        #expect(String(decoding: data, as: UTF8.self).contains("Content-Transfer-Encoding: 7bit"))
        let message = try MIMEEditableMessage(parsing: data, limits: limits)
        let body = try site(message, .body, "mime/1")
        try message.setText(at: body, to: Array("IIN 0612••••0012 in plain ASCII\r\n".utf8))
        let output = try message.serialize()
        #expect(output.allSatisfy { $0 < 0x80 }, "the message stays 7-bit clean")
        #expect(try PythonMail.read(output, "p = m.get_body(); print(p['Content-Transfer-Encoding'], p.get_content(), end='')")
            == "quoted-printable IIN 0612••••0012 in plain ASCII\n")
    }

    @Test func replacedXMLIsWrittenBackAndOtherPartsAreUntouched() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let sanitized = Data(#"<?xml version="1.0" encoding="UTF-8"?><GoodsDeclaration xmlns="urn:EEC:R:055:GoodsDeclaration:v1.1.0"><IIN>0612••••0012</IIN></GoodsDeclaration>"#.utf8)
        try message.replaceBody(of: PartPath.message.mime([4]), with: sanitized)
        #expect(message.isModified)
        let output = try message.serialize()
        let before = parser.parse(Self.customsMessage)
        let after = parser.parse(output)
        #expect(after.findings.isEmpty)
        #expect(after.paths == before.paths)
        #expect(after.leaf("mime/4")?.part.data == sanitized)
        #expect(after.leaf("mime/4")?.isXML == true)
        for path in before.paths where path != "mime/4" {
            #expect(after.leaf(path)?.part.data == before.leaf(path)?.part.data, "\(path) unchanged")
        }
        #expect(try PythonMail.read(output, "print(list(m.iter_attachments())[2]['Content-Transfer-Encoding'])") == "base64\n")
    }

    @Test func attachedMessageSubjectIsEditable() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let inner = try site(message, .header("Subject"), "mime/5")
        try message.setText(at: inner, to: Array("Вложенное • письмо".utf8))
        let output = try message.serialize()
        let reread = try MIMEEditableMessage(parsing: output, limits: limits)
        #expect(string(reread.text(at: inner)) == "Вложенное • письмо")
        #expect(string(reread.text(at: try site(reread, .header("Subject"), "message"))) == "Декларация № 5 — проверка")
        #expect(parser.parse(output).paths == parser.parse(Self.customsMessage).paths)
    }

    @Test func transferEncodedAttachedMessageIsEditedInPlace() throws {
        let inner = "From: a@example.kz\r\nSubject: hidden 061211600012\r\n\r\npayload 061211600012\r\n"
        let data = Data(("From: a@example.kz\r\nTo: b@example.ru\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: message/rfc822\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + Data(inner.utf8).base64EncodedString(options: .lineLength76Characters)
            + "\r\n--XYZ--\r\n").utf8)
        let message = try MIMEEditableMessage(parsing: data, limits: limits)
        let subject = try site(message, .header("Subject"), "mime/1")
        let body = try site(message, .body, "mime/1/1")
        #expect(string(message.text(at: body)) == "payload 061211600012\r\n")
        try message.setText(at: subject, to: Array("hidden 0612••••0012".utf8))
        try message.setText(at: body, to: Array("payload 0612••••0012\r\n".utf8))
        let output = try message.serialize()
        #expect(!String(decoding: output, as: UTF8.self).contains("Content-Transfer-Encoding: 7bit"))
        let reread = try MIMEEditableMessage(parsing: output, limits: limits)
        #expect(string(reread.text(at: subject)) == "hidden 0612••••0012")
        #expect(string(reread.text(at: body)) == "payload 0612••••0012\r\n")
        #expect(parser.parse(output).paths == ["mime/1/1"])
    }

    @Test func untouchedMessageIsReturnedAsReceived() throws {
        let message = try MIMEEditableMessage(parsing: Self.customsMessage, limits: limits)
        let subject = try site(message, .header("Subject"), "message")
        try message.setText(at: subject, to: message.text(at: subject))
        #expect(!message.isModified, "setting the same text changes nothing")
        #expect(try message.serialize() == Self.customsMessage)
    }

    @Test func messagesAreEditedConcurrently() async throws {
        let data = Self.customsMessage
        let limits = self.limits
        let subjects = await withTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask {
                    guard let message = try? MIMEEditableMessage(parsing: data, limits: limits),
                          let subject = message.textSites.first(where: { $0.kind == .header("Subject") }),
                          let body = message.textSites.first(where: { $0.part.description == "mime/2" }) else { return "" }
                    try? message.setText(at: subject, to: Array("Тема \(index)".utf8))
                    try? message.setText(at: body, to: Array("Справка \(index)\r\n".utf8))
                    guard let output = try? message.serialize(),
                          let reread = try? MIMEEditableMessage(parsing: output, limits: limits) else { return "" }
                    return String(decoding: reread.text(at: subject) + reread.text(at: body), as: UTF8.self)
                }
            }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(subjects == Set((0..<8).map { "Тема \($0)Справка \($0)\r\n" }))
    }

    /// A Python string literal for `text` (escaped through JSON, which Python reads).
    private func pythonLiteral(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
