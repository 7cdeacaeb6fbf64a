import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// Form detection through `kordon filter`: what a receiver's XML or mail reader would parse
/// is checked as XML or MIME, whatever its encoding, line ends or label (issue 17, kinds 3,
/// 4 and 6). Every hostile input carries EICAR where the reference reader (Python's `email`,
/// libxml2) recovers it; every clean sibling must pass unchanged.
@Suite("form detection", .timeLimit(.minutes(10)))
struct CLIFormDetectionTests {
    // MARK: - Inputs

    /// A schema-valid declaration from the benchmark generator; `payload` as its attachment.
    static func declaration(embedding payload: Data?) throws -> Data {
        let directory = try temporaryDirectory("form-decl")
        defer { try? FileManager.default.removeItem(at: directory) }
        var arguments = ["--count", "1", "--format", "xml", "--seed", "5", "--attachment-size", "2048"]
        if let payload {
            let file = directory.appendingPathComponent("payload.bin")
            try payload.write(to: file)
            arguments += ["--embed", file.path]
        }
        let out = directory.appendingPathComponent("out")
        try makeCorpus(in: out, arguments)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".xml") }
        return try Data(contentsOf: out.appendingPathComponent(try #require(files.first)))
    }

    /// Runs a Python script with `input` on standard input and `arguments` in `sys.argv[1:]`.
    static func python(_ script: String, _ arguments: [String] = [], input: Data = Data()) throws -> Data {
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script] + arguments, stdin: input)
        try #require(result.status == 0, "python3 failed: \(result.stderr)")
        return result.stdout
    }

    /// `document` (UTF-8) re-encoded by Python's codec `codec`, its declaration naming `declared`
    /// (or removed when `declared` is empty).
    static func reencoded(_ document: Data, codec: String, declared: String) throws -> Data {
        try python("""
            import re, sys
            text = sys.stdin.buffer.read().decode('utf-8')
            if sys.argv[2]:
                text = re.sub(r'encoding="[^"]*"', 'encoding="%s"' % sys.argv[2], text, count=1)
            else:
                text = re.sub(r'^<\\?xml[^>]*\\?>\\s*', '', text)
            sys.stdout.buffer.write(text.encode(sys.argv[1], errors='replace'))  # EBCDIC has no Cyrillic
            """, [codec, declared], input: document)
    }

    /// A mail message written by Python's `email` package with `attachment` as an
    /// application/octet-stream part, CRLF line ends.
    static func mail(attaching attachment: Data) throws -> Data {
        try python("""
            import sys, email.policy
            from email.message import EmailMessage
            m = EmailMessage(policy=email.policy.SMTP)
            m['From'] = 'kz-gateway@customs.example.kz'
            m['To'] = 'ru-gateway@customs.example.ru'
            m['Subject'] = 'Declaration'
            m.set_content('see attached')
            m.add_attachment(sys.stdin.buffer.read(), maintype='application', subtype='octet-stream', filename='x.bin')
            sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
            """, input: attachment)
    }

    /// Whether Python's `email` package finds `needle` in a decoded leaf of `message`.
    static func pythonRecovers(_ needle: Data, from message: Data) throws -> Bool {
        let directory = try temporaryDirectory("form-needle")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("needle")
        try needle.write(to: file)
        let answer = try python("""
            import sys, email
            needle = open(sys.argv[1], 'rb').read()
            m = email.message_from_bytes(sys.stdin.buffer.read())
            print(any(needle in (p.get_payload(decode=True) or b'') for p in m.walk() if not p.is_multipart()))
            """, [file.path], input: message)
        return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "True"
    }

    /// A message after `kordon filter`: exit status, what was passed on, the report.
    struct Filtered {
        var status: Int32
        var output: Data
        var report: Report
        var rules: [String] { report.findings.map(\.rule) }
        var virus: Bool { report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") } }
    }

    static func filter(_ message: Data) throws -> Filtered {
        let directory = try temporaryDirectory("form-report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let reportFile = directory.appendingPathComponent("report.json")
        let result = try kordon(["filter", "--report", reportFile.path], stdin: message)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        return Filtered(status: result.status, output: result.stdout, report: report)
    }

    /// Expects the message held, with a virus finding below `part`, and nothing passed on.
    static func expectHeld(_ result: Filtered, format: String, under part: String, _ name: String) {
        #expect(result.status == 1, "\(name): \(result.report.findings)")
        #expect(result.output.isEmpty, "\(name)")
        #expect(result.report.verdict == .quarantined, "\(name)")
        #expect(result.report.message.format == format, "\(name)")
        #expect(result.report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") && $0.part.hasPrefix(part) },
                "\(name): \(result.report.findings)")
    }

    /// Expects the message passed byte for byte, with no finding that holds it.
    static func expectPassed(_ result: Filtered, _ message: Data, format: String, _ name: String) {
        #expect(result.status == 0, "\(name): \(result.report.findings)")
        #expect(result.report.verdict == .clean, "\(name): \(result.report.findings)")
        #expect(result.output == message, "\(name)")
        #expect(result.report.message.format == format, "\(name)")
    }

    // MARK: - Kind 3: XML in every encoding libxml2 reads

    static let unicodeForms: [(codec: String, declared: String)] = [
        ("utf-32", "UTF-32"), ("utf-32-le", "UTF-32LE"), ("utf-32-be", "UTF-32BE"),
        ("utf-32-le", ""), ("utf-32-be", ""), ("utf-16", "UTF-16"), ("utf-16-be", ""),
    ]

    @Test("UTF-32 and UTF-16 XML, with or without BOM and declaration, is XML: its base64 payload is decoded")
    func utf32XMLIsDecoded() throws {
        let hostile = try Self.declaration(embedding: eicar)
        let clean = try Self.declaration(embedding: nil)
        for (codec, declared) in Self.unicodeForms {
            let name = "\(codec) declared '\(declared)'"
            Self.expectHeld(try Self.filter(try Self.reencoded(hostile, codec: codec, declared: declared)),
                            format: "xml", under: "xml:/", name)
            let sibling = try Self.reencoded(clean, codec: codec, declared: declared)
            Self.expectPassed(try Self.filter(sibling), sibling, format: "xml", name)
        }
    }

    @Test("XML after 20 KB of whitespace (allowed before the root element) is still XML")
    func longLeadingWhitespaceIsXML() throws {
        let hostile = try Self.declaration(embedding: eicar)
        for codec in ["utf-8", "utf-32-be"] {
            let document = try Self.python("""
                import re, sys
                text = re.sub(r'^<\\?xml[^>]*\\?>\\s*', '', sys.stdin.buffer.read().decode('utf-8'))
                sys.stdout.buffer.write((' \\n' * 10000 + text).encode(sys.argv[1]))
                """, [codec], input: hostile)
            Self.expectHeld(try Self.filter(document), format: "xml", under: "xml:/", codec)
        }
    }

    @Test("XML in an encoding Kordon does not read (EBCDIC, UCS-4 2143) is held as XML, never passed as a clean file")
    func unreadableEncodingsAreHeld() throws {
        let hostile = try Self.declaration(embedding: eicar)
        let ebcdic = try Self.reencoded(hostile, codec: "cp037", declared: "IBM037")
        let ucs4 = try Self.python("""
            import sys
            data = sys.stdin.buffer.read().decode('utf-8').encode('utf-32-be')
            sys.stdout.buffer.write(b''.join(bytes([data[i+1], data[i], data[i+3], data[i+2]]) for i in range(0, len(data), 4)))
            """, input: hostile)
        for (name, document) in [("EBCDIC", ebcdic), ("UCS-4 2143", ucs4)] {
            let result = try Self.filter(document)
            #expect(result.status == 1, "\(name)")
            #expect(result.report.message.format == "xml", "\(name)")
            #expect(result.report.findings.contains { $0.rule == "xml.encoding" && $0.action == .quarantine }, "\(name): \(result.rules)")
        }
    }

    @Test("an XML declaration behind NULs or a stray UTF-16 byte order mark is held as XML")
    func declarationBehindJunkIsHeld() throws {
        let hostile = try Self.declaration(embedding: eicar)
        for (name, document) in [("NULs", Data([0, 0, 0]) + hostile), ("UTF-16 BOM", Data([0xFF, 0xFE]) + hostile)] {
            let result = try Self.filter(document)
            #expect(result.status == 1, "\(name)")
            #expect(result.report.message.format == "xml", "\(name)")
            #expect(result.report.findings.contains { $0.stage == .xml && $0.action == .quarantine }, "\(name): \(result.rules)")
        }
    }

    // MARK: - Kind 4: MIME in every shape a mail reader reads

    /// Mutations of a CRLF message, as Python scripts over `m` (the bytes); each keeps the
    /// attachment readable by Python's `email`.
    static let mailShapes: [(name: String, mutation: String)] = [
        ("bare CR", "m.replace(b'\\r\\n', b'\\r')"),
        ("LF", "m.replace(b'\\r\\n', b'\\n')"),
        ("CR in the first lines, CRLF after", "m.replace(b'\\r\\n', b'\\r', 3)"),
        ("CR and LF alternating", "b'\\n'.join(l.rstrip(b'\\r') if i % 2 else l for i, l in enumerate(m.split(b'\\n')))"),
        ("mbox From line, bare CR", "b'From gw@customs.example.kz Fri Dec  4 12:00:00 2026\\r' + m.replace(b'\\r\\n', b'\\r')"),
        ("header block over 64 KB", "m.replace(b'Subject: ', b'X-Pad: ' + b'a' * 70000 + b'\\r\\nSubject: ', 1)"),
        ("lowercase names", "m.replace(b'Content-Type', b'content-type').replace(b'MIME-Version', b'mime-version')"),
        ("only Content-Type tells", "b'X-A: 1\\r\\n' + m[m.index(b'Content-Type'):]"),
    ]

    /// Shapes readers disagree on: Python reads the attachment, GMime alone would not; held.
    static let malformedShapes: [(name: String, mutation: String)] = [
        ("leading continuation line", "b' X-Lead: 1\\r\\n' + m"),
        ("NUL in a header", "m.replace(b'Subject: Declaration', b'Subject: Decl\\x00aration', 1)"),
        ("bare CR in the attachment's headers", """
            (lambda i: m[:i] + m[i:m.index(b'\\r\\n\\r\\n', i) + 4].replace(b'\\r\\n', b'\\r') + m[m.index(b'\\r\\n\\r\\n', i) + 4:])(m.index(b'Content-Type: application/octet-stream'))
            """),
    ]

    static func mutate(_ message: Data, _ mutation: String) throws -> Data {
        try python("import sys\nm = sys.stdin.buffer.read()\nsys.stdout.buffer.write(\(mutation))", input: message)
    }

    @Test("MIME with bare CR, mixed line ends, long or unusual header blocks is MIME: its attachment is decoded and scanned")
    func mailShapesAreDecoded() throws {
        let hostile = try Self.mail(attaching: eicar)
        let clean = try Self.mail(attaching: Data("an ordinary attachment".utf8))
        for (name, mutation) in Self.mailShapes {
            let message = try Self.mutate(hostile, mutation)
            #expect(try Self.pythonRecovers(eicar, from: message), "\(name): Python's email no longer reads the attachment")
            Self.expectHeld(try Self.filter(message), format: "mime", under: "mime/2", name)
            let sibling = try Self.mutate(clean, mutation)
            Self.expectPassed(try Self.filter(sibling), sibling, format: "mime", name)
        }
    }

    @Test("header blocks readers disagree on are held as unchecked MIME")
    func ambiguousMailIsHeld() throws {
        let clean = try Self.mail(attaching: Data("an ordinary attachment".utf8))
        let hostile = try Self.mail(attaching: eicar)
        for (name, mutation) in Self.malformedShapes {
            #expect(try Self.pythonRecovers(eicar, from: try Self.mutate(hostile, mutation)), "\(name)")
            let result = try Self.filter(try Self.mutate(clean, mutation))
            #expect(result.status == 1, "\(name)")
            #expect(result.report.message.format == "mime", "\(name)")
            #expect(result.report.findings.contains { $0.stage == .unchecked && $0.action == .quarantine }, "\(name): \(result.rules)")
        }
    }

    // MARK: - Kind 6: XML in parts not labelled XML

    /// A multipart message whose second part is `body` with the given headers (Python's `email`).
    static func mail(part body: Data, contentType: String?, filename: String?) throws -> Data {
        try python("""
            import sys, email.policy
            from email.mime.multipart import MIMEMultipart
            from email.mime.text import MIMEText
            from email.mime.base import MIMEBase
            from email import encoders
            m = MIMEMultipart()
            m['From'] = 'kz-gateway@customs.example.kz'
            m['Subject'] = 'Declaration'
            m.attach(MIMEText('see attached'))
            p = MIMEBase('application', 'octet-stream')
            p.set_payload(sys.stdin.buffer.read())
            encoders.encode_base64(p)
            del p['Content-Type']
            if sys.argv[1]:
                p['Content-Type'] = sys.argv[1]
            if sys.argv[2]:
                p.add_header('Content-Disposition', 'attachment', filename=sys.argv[2])
            m.attach(p)
            sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
            """, [contentType ?? "", filename ?? ""], input: body)
    }

    @Test("an XML part labelled PDF, CSV, octet-stream or nothing goes through the XML stage; a lying label is reported")
    func mislabelledXMLIsInspected() throws {
        let hostile = try Self.declaration(embedding: eicar)
        let clean = try Self.declaration(embedding: nil)
        let labels: [(type: String?, name: String?, lies: Bool, declaration: Bool)] = [
            ("application/pdf", "invoice.pdf", true, true),
            ("text/csv", nil, true, true),
            ("application/octet-stream", nil, false, false),
            (nil, nil, false, false),
        ]
        for label in labels {
            let name = "\(label.type ?? "no Content-Type"), declaration \(label.declaration)"
            let strip: (Data) throws -> Data = { label.declaration ? $0 : try Self.reencoded($0, codec: "utf-8", declared: "") }
            let result = try Self.filter(try Self.mail(part: try strip(hostile), contentType: label.type, filename: label.name))
            Self.expectHeld(result, format: "mime", under: "mime/2", name)
            #expect(result.report.findings.contains { $0.stage == .virus && $0.part.contains("xml:/") }, "\(name): \(result.report.findings)")
            let sibling = try Self.mail(part: try strip(clean), contentType: label.type, filename: label.name)
            let passed = try Self.filter(sibling)
            Self.expectPassed(passed, sibling, format: "mime", name)
            #expect(passed.report.message.documentType?.hasSuffix("}GoodsDeclaration") == true, "\(name): not read as XML")
            let mismatch = passed.report.findings.filter { $0.rule == "mime.type-mismatch" }
            #expect(mismatch.map(\.action) == (label.lies ? [.report] : []), "\(name): \(passed.report.findings)")
        }
    }

    /// An HTTP `multipart/form-data` body as a browser sends it, without a header block.
    static func formData(_ parts: [(name: String, filename: String?, type: String?, data: Data)]) -> Data {
        let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
        var body = Data()
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n"
            if let type = part.type { head += "Content-Type: \(type)\r\n" }
            body += Data((head + "\r\n").utf8) + part.data + Data("\r\n".utf8)
        }
        return body + Data("--\(boundary)--\r\n".utf8)
    }

    @Test("a headerless multipart/form-data upload is MIME: its XML part is inspected, its files scanned")
    func formDataUploadIsParsed() throws {
        let hostile = try Self.declaration(embedding: eicar)
        let clean = try Self.declaration(embedding: nil)
        let xmlUpload = Self.formData([("note", nil, nil, Data("hello".utf8)), ("file", "decl.xml", "application/xml", hostile)])
        Self.expectHeld(try Self.filter(xmlUpload), format: "mime", under: "mime/2/xml:/", "decl.xml upload")
        Self.expectHeld(try Self.filter(Self.formData([("file", "x.bin", "application/octet-stream", eicar)])),
                        format: "mime", under: "mime/1", "binary upload")
        // Random bytes (bare CRs among them) in a file part are content, not line ends.
        let binary = Data((0..<20_000).map { (k: Int) in UInt8(truncatingIfNeeded: (k &* 2_654_435_761) >> 13) })
        #expect(binary.contains(0x0D))
        let sibling = Self.formData([("file", "decl.xml", "application/xml", clean), ("photo", "photo.bin", "application/octet-stream", binary)])
        Self.expectPassed(try Self.filter(sibling), sibling, format: "mime", "clean upload")
    }

    @Test("a sanitized form-data upload is written back as a body without a header block, in its own line ends")
    func sanitizedUploadKeepsItsShape() throws {
        let note = try Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/restricted/note-person.txt"))
        for newline in ["\r\n", "\n"] {
            let crlf = Self.formData([("note", nil, "text/plain; charset=utf-8", note)])
            let body = newline == "\r\n" ? crlf : Data(String(decoding: crlf, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
            let result = try Self.filter(body)
            #expect(result.status == 0, "\(result.report.findings)")
            #expect(result.report.verdict == .sanitized)
            #expect(result.output.starts(with: Data("------WebKitFormBoundary7MA4YWxkTrZu0gW\(newline)Content-Disposition".utf8)))
            #expect(result.output.range(of: Data("multipart/form-data".utf8)) == nil)
        }
    }

    // MARK: - Nested messages

    /// A message carrying `inner` as an attached file labelled `type`.
    static func forwarding(_ inner: Data, as type: String) throws -> Data {
        try python("""
            import sys, email.policy
            from email.message import EmailMessage
            m = EmailMessage(policy=email.policy.SMTP)
            m['From'] = 'kz-gateway@customs.example.kz'
            m['Subject'] = 'Forwarded'
            m.set_content('forwarded')
            maintype, subtype = sys.argv[1].split('/')
            m.add_attachment(sys.stdin.buffer.read(), maintype=maintype, subtype=subtype, filename='fwd.eml')
            sys.stdout.buffer.write(m.as_bytes(policy=email.policy.SMTP))
            """, [type], input: inner)
    }

    @Test("a bare-CR message attached as a file or as base64 message/rfc822 is opened like mail: its attachment is scanned")
    func attachedMessagesAreOpened() throws {
        let hostile = try Self.mutate(try Self.mail(attaching: eicar), "m.replace(b'\\r\\n', b'\\r')")
        let clean = try Self.mutate(try Self.mail(attaching: Data("an ordinary attachment".utf8)), "m.replace(b'\\r\\n', b'\\r')")
        for type in ["application/octet-stream", "message/rfc822"] {
            let message = try Self.forwarding(hostile, as: type)
            if type == "message/rfc822" { #expect(message.range(of: Data("base64".utf8)) != nil, "Python no longer base64-encodes it") }
            Self.expectHeld(try Self.filter(message), format: "mime", under: "mime/2/", type)
            let sibling = try Self.forwarding(clean, as: type)
            Self.expectPassed(try Self.filter(sibling), sibling, format: "mime", type)
        }
    }
}
