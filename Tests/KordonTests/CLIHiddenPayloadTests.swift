import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// Issue 17, kinds 5 and 7 through `kordon scan`: EICAR encoded the ways a receiver's
/// ordinary tools still decode (forgiving base64, short runs, markup, uuencode, a text
/// file of base64, a bare zlib stream) is found and named; ordinary text stays clean.
@Suite("CLI: hidden payloads", .timeLimit(.minutes(10)))
struct CLIHiddenPayloadTests {
    /// The carrier: a clean declaration whose goods description (`xs:string`, up to 250
    /// characters) is replaced.
    static let description = "Аппаратура для приёма и передачи данных (маршрутизаторы)"
    static let descriptionPart = "xml:/GoodsDeclaration/GoodsItemDetails/GoodsDescriptionText"
    static var encoded: String { eicar.base64EncodedString() }

    static func declaration(_ replacing: (String) -> String) throws -> Data {
        let text = String(decoding: try Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-kz-ru.xml")),
                          as: UTF8.self)
        let changed = replacing(text)
        try #require(changed != text, "the fixture changed")
        return Data(changed.utf8)
    }

    static func describing(_ goods: String) throws -> Data {
        try declaration { $0.replacingOccurrences(of: description, with: goods) }
    }

    static func inserting(_ insert: String) -> String {
        String(encoded.prefix(40)) + insert + String(encoded.dropFirst(40))
    }

    /// Scans one file with the CLI and returns its report.
    static func scan(_ data: Data, name: String) throws -> Report {
        let directory = try temporaryDirectory("kordon-hidden")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try data.write(to: file)
        let result = try kordon(["scan", "--format", "ndjson", file.path])
        return try #require(try result.reports().first, "no report: \(result.stderr)")
    }

    /// Held for EICAR, and for nothing else: every finding is the virus at `part`.
    static func expectVirus(_ report: Report, at part: String, _ comment: String, alsoAt others: Set<String> = []) {
        #expect(report.verdict == .quarantined, "\(comment)")
        #expect(report.findings.contains { $0.part.description == part }, "\(comment)")
        for finding in report.findings {
            #expect(finding.stage == .virus && finding.rule.contains("EICAR") && others.union([part]).contains(finding.part.description),
                    "\(comment): \(finding.stage) \(finding.rule) at \(finding.part): \(finding.detail)")
        }
    }

    /// Python, with `eicar` on standard input; returns what the script writes.
    static func python(_ script: String) throws -> Data {
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], stdin: eicar)
        try #require(result.status == 0, "python failed: \(result.stderr)")
        return result.stdout
    }

    static let mutations: [(String, String)] = [
        ("a `!` inside", inserting("!")),
        ("a `-` inside", inserting("-")),
        ("a non-breaking space inside", inserting("\u{A0}")),
        ("a data: URL label", "data:application/octet-stream;base64," + encoded),
        ("a base64: label", "base64:" + encoded),
        ("trailing junk", encoded + "!!junk##"),
        ("two padded blocks joined", eicar.prefix(34).base64EncodedString() + eicar.dropFirst(34).base64EncodedString()),
        ("the URL-safe alphabet", encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")),
        ("no padding", encoded.replacingOccurrences(of: "=", with: "")),
        ("a short strict run (92 characters)", encoded),
    ]

    @Test("EICAR base64 in a string element, as forgiving decoders read it: virus at the element", arguments: mutations)
    func mutated(_ name: String, _ goods: String) throws {
        let report = try Self.scan(try Self.describing(goods), name: "mutated.xml")
        Self.expectVirus(report, at: Self.descriptionPart, name)
    }

    @Test("EICAR base64 in a comment, a processing instruction, xsi:schemaLocation and a namespace URI: virus at each")
    func markup() throws {
        let root = #"<GoodsDeclaration xmlns="urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0""#
        let places: [(String, (String) -> String, String)] = [
            ("comment", { $0.replacingOccurrences(of: "  <csdo:EDocCode>", with: "  <!-- \(Self.encoded) -->\n  <csdo:EDocCode>") },
             "xml:/GoodsDeclaration/comment()"),
            ("processing instruction", { $0.replacingOccurrences(of: "  <csdo:EDocCode>", with: "  <?blob \(Self.encoded)?>\n  <csdo:EDocCode>") },
             "xml:/GoodsDeclaration/processing-instruction()"),
            ("xsi:schemaLocation", { $0.replacingOccurrences(of: root, with: root + #" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0 \#(Self.encoded)""#) },
             "xml:/GoodsDeclaration/@schemaLocation"),
            ("namespace URI", { $0.replacingOccurrences(of: root, with: root + #" xmlns:x="urn:\#(Self.encoded)""#) },
             "xml:/GoodsDeclaration/@xmlns:x"),
        ]
        for (name, change, part) in places {
            let report = try Self.scan(try Self.declaration(change), name: "markup.xml")
            Self.expectVirus(report, at: part, name)
        }
    }

    @Test("ordinary text in the same element stays clean: prose, codes, names, numbers, long hex, a URL, UUIDs")
    func cleanSiblings() throws {
        let texts = [
            "Routers and switches for data transmission, model ABC-1234, serial numbers SN00012345 to SN00012399, in 12 cartons",
            "ООО «Омский Агроцентр», г. Омск, ул. Красный Путь, 30; код ТН ВЭД 8517620009",
            "8517620009 8517620009 8517620009 8517620009 8517620009 8517620009",
            String(repeating: "0123456789abcdef", count: 12),
            "https://example.com/download/documents/2025/03/invoice-417.pdf?lang=ru&amp;format=pdf",
            "ab9bb2f6-535a-7e07-b6df-fce81c2d9d1f a88b7591-31db-6e32-d8dc-b35f9cc662cf",
            "SerialNumberRangeFromABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ]
        for text in texts {
            let report = try Self.scan(try Self.describing(text), name: "clean.xml")
            #expect(report.verdict == .clean, "\(text): \(report.findings.map { "\($0.rule) \($0.part)" })")
        }
    }

    @Test("uuencoded EICAR in a MIME text body (written by Python's email): virus")
    func uuencodedMail() throws {
        let mail = try Self.python("""
            import sys, binascii, email.policy
            from email.message import EmailMessage
            data = sys.stdin.buffer.read()
            body = "Good day,\\n\\nthe file follows.\\n\\nbegin 644 invoice.com\\n"
            body += "".join(binascii.b2a_uu(data[i:i + 45]).decode() for i in range(0, len(data), 45))
            body += "`\\nend\\n\\nRegards\\n"
            m = EmailMessage(policy=email.policy.SMTP)
            m["From"] = "broker@kordon.example"; m["To"] = "customs@kordon.example"; m["Subject"] = "Invoice"
            m.set_content(body)
            sys.stdout.buffer.write(m.as_bytes())
            """)
        let report = try Self.scan(mail, name: "uu.eml")
        #expect(report.message.format == "mime")
        #expect(report.verdict == .quarantined)
        #expect(report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") && $0.part.description.hasSuffix("decoded:uuencode") },
                "\(report.findings.map { "\($0.rule) \($0.part)" })")
    }

    @Test("EICAR base64 pasted into a mail's text body (written by Python's email): virus at the body's decoded block")
    func base64InMailBody() throws {
        let mail = try Self.python("""
            import sys, base64, email.policy
            from email.message import EmailMessage
            encoded = base64.encodebytes(sys.stdin.buffer.read()).decode()
            m = EmailMessage(policy=email.policy.SMTP)
            m["From"] = "broker@kordon.example"; m["To"] = "customs@kordon.example"; m["Subject"] = "The file"
            m.set_content("Good day,\\n\\nthe file, base64:\\n\\n" + encoded + "\\nRegards\\n")
            sys.stdout.buffer.write(m.as_bytes())
            """)
        let report = try Self.scan(mail, name: "pasted.eml")
        #expect(report.message.format == "mime")
        #expect(report.verdict == .quarantined)
        #expect(report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") && $0.part.description.hasSuffix("decoded:base64") },
                "\(report.findings.map { "\($0.rule) \($0.part)" })")
    }

    @Test("a text file of base64 EICAR, wrapped, with a stray character or a stray NUL or high byte: virus; a text file of prose or hex: clean")
    func textFiles() throws {
        let wrapped = eicar.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n"
        let report = try Self.scan(Data(wrapped.utf8), name: "payload.txt")
        #expect(report.message.format == "opaque")
        Self.expectVirus(report, at: "decoded:base64", "wrapped base64")
        let stray = try Self.scan(Data((Self.inserting("!") + "\n").utf8), name: "stray.txt")
        Self.expectVirus(stray, at: "decoded:base64-lenient", "base64 with a `!`")

        for junk: UInt8 in [0x00, 0xE9] {
            // One byte that makes a sniffer call the file binary; base64 -di skips it.
            var bytes = Data(wrapped.utf8)
            bytes.insert(junk, at: 30)
            Self.expectVirus(try Self.scan(bytes, name: "junk.txt"), at: "decoded:base64-lenient", "a 0x\(String(junk, radix: 16)) byte")
        }

        let prose = "Shipping note\n\nTwelve cartons of routers, model ABC-1234, leave Almaty on 3 March.\n"
        #expect(try Self.scan(Data(prose.utf8), name: "note.txt").verdict == .clean)
        let hex = String(repeating: "0123456789abcdef", count: 16) + "\n"
        #expect(try Self.scan(Data(hex.utf8), name: "digest.txt").verdict == .clean)
    }

    @Test("a JSON file with an EICAR base64 string, and a base64 text file inside a zip or a gzip: virus")
    func structuredAndUnpacked() throws {
        let json = Data(#"{"name": "invoice.com", "content": "\#(Self.encoded)"}"#.utf8)
        Self.expectVirus(try Self.scan(json, name: "upload.json"), at: "decoded:base64", "JSON")
        let zip = try Self.python("""
            import sys, io, zipfile, base64
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("attachment.b64", base64.encodebytes(sys.stdin.buffer.read()))
            sys.stdout.buffer.write(buffer.getvalue())
            """)
        let zipped = try Self.scan(zip, name: "files.zip")
        #expect(zipped.verdict == .quarantined)
        #expect(zipped.findings.contains { $0.stage == .virus && $0.part.description.hasPrefix("unpacked:") && $0.part.description.hasSuffix("/decoded:base64") },
                "\(zipped.findings.map { "\($0.rule) \($0.part)" })")
        let gz = try Self.python("import sys, gzip, base64; sys.stdout.buffer.write(gzip.compress(base64.encodebytes(sys.stdin.buffer.read())))")
        let gzipped = try Self.scan(gz, name: "attachment.b64.gz")
        #expect(gzipped.verdict == .quarantined)
        #expect(gzipped.findings.contains { $0.stage == .virus && $0.part.description.hasSuffix("/decoded:base64") },
                "\(gzipped.findings.map { "\($0.rule) \($0.part)" })")
    }

    @Test("base64 of base64 EICAR in a typed attachment: the inner run is decoded and named")
    func doubleBase64() throws {
        let url = repositoryRoot.appendingPathComponent("fixtures/clean/declaration-attachments.xml")
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let open = #"<Content mediaType="application/pdf">"#
        let start = try #require(text.range(of: open)).upperBound
        let end = try #require(text.range(of: "</Content>", range: start..<text.endIndex)).lowerBound
        let twice = Data(Self.encoded.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        let document = text.replacingCharacters(in: start..<end, with: "\n" + twice + "\n      ")
        let report = try Self.scan(Data(document.utf8), name: "twice.xml")
        Self.expectVirus(report, at: "xml:/GoodsDeclaration/AttachedDocument[1]/Content/decoded:base64", "base64 of base64")
    }

    /// The ClamAV stage decodes these streams (`UndecodedStream`); this checks the whole
    /// path through the CLI.
    @Test("a bare zlib, zstd or .lzma stream of EICAR as a file: virus; a zlib stream cut short: unchecked")
    func compressedStreams() throws {
        let zlib = try Self.python("import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))")
        Self.expectVirus(try Self.scan(zlib, name: "blob.bin"), at: "decoded:zlib", "zlib")
        let lzma = try Self.python("import sys, lzma; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), format=lzma.FORMAT_ALONE))")
        Self.expectVirus(try Self.scan(lzma, name: "blob.lzma"), at: "decoded:lzma-alone", "lzma-alone")
        let zstd = try run(URL(fileURLWithPath: "/usr/bin/zstd"), ["-q", "-c"], stdin: eicar)
        try #require(zstd.status == 0, "zstd: \(zstd.stderr)")
        // zstd stores a file this small as a raw block, so the bytes are there to see as well.
        Self.expectVirus(try Self.scan(zstd.stdout, name: "blob.zst"), at: "decoded:zstd", "zstd", alsoAt: ["message"])

        let big = try Self.python("import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read() + bytes(range(256)) * 64))")
        let cut = try Self.scan(big.prefix(big.count / 2), name: "cut.bin")
        #expect(cut.verdict == .quarantined)
        #expect(cut.findings.contains { $0.stage == .unchecked && $0.part.description == "decoded:zlib" },
                "\(cut.findings.map { "\($0.rule) \($0.part)" })")
    }
}
