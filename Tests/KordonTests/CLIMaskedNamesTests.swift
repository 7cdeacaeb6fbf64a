import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// Identifiers written into names — element and attribute names, namespace prefixes
/// and URIs, header names — through `kordon filter` and `kordon scan`: a name cannot be
/// sanitized, so a personal identifier in one holds the message, and no report, standard
/// output or standard error ever shows the identifier itself, part paths included.
@Suite("restricted values in names", .timeLimit(.minutes(10)))
struct CLIMaskedNamesTests {
    /// A checksum-valid KZ IIN (the fixtures' own) and its masked form.
    static let iin = "061211600012"
    static let maskedIIN = "0612••••0012"
    /// The same number with a wrong check digit: no identifier.
    static let notIIN = "061211600013"

    /// The clean, schema-valid KZ→RU declaration with `attributes` added to its root element.
    static func declaration(rootAttributes attributes: String) throws -> Data {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-kz-ru.xml"), encoding: .utf8)
        let root = try #require(text.range(of: "<GoodsDeclaration "))
        return Data(text.replacingCharacters(in: root, with: "<GoodsDeclaration \(attributes) ").utf8)
    }

    /// The clean declaration with `element` inserted as the root's first child (which the schema refuses).
    static func declaration(firstChild element: String) throws -> Data {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/clean/declaration-kz-ru.xml"), encoding: .utf8)
        let first = try #require(text.range(of: "<csdo:EDocCode>"))
        return Data(text.replacingCharacters(in: first.lowerBound..<first.lowerBound, with: element + "\n  ").utf8)
    }

    /// `kordon filter --report` on `message`: the run and the report as written to the file.
    func filter(_ message: Data, _ arguments: [String] = []) throws -> (CommandResult, String, Report) {
        let run = try RestrictedRun()
        defer { run.remove() }
        let reportFile = run.directory.appendingPathComponent("report.json")
        let result = try run(["filter"], ["--report", reportFile.path] + arguments, stdin: message)
        let json = try String(contentsOf: reportFile, encoding: .utf8)
        return (result, json, try JSONDecoder().decode(Report.self, from: Data(json.utf8)))
    }

    @Test("an IIN in a namespace URI (a declaration that validates): quarantined with a masked kz.iin finding, never shown raw")
    func namespaceURI() throws {
        let message = try Self.declaration(rootAttributes: "xmlns:p=\"urn:person:\(Self.iin)\"")
        #expect(try xmllintProblem(message) == nil, "the document is schema-valid: nothing but the name holds it")
        let (result, json, report) = try filter(message)
        #expect(result.status == 1, "\(json)")
        #expect(report.verdict == .quarantined)
        let finding = try #require(report.findings.first { $0.rule == "kz.iin" })
        #expect(finding.stage == .restricted && finding.action == .quarantine && finding.category == "personal-data")
        #expect(finding.masked == Self.maskedIIN)
        #expect(finding.detail.contains("namespace URI"), "\(finding.detail)")
        #expect(finding.part == "xml:/GoodsDeclaration")
        #expect(result.stdout.isEmpty, "nothing is passed on")
        for output in [json, result.text, result.stderr] { #expect(!output.contains(Self.iin), "\(output)") }
    }

    @Test("a namespace URI with a number that fails the IIN checksum passes clean")
    func notAnIdentifier() throws {
        let message = try Self.declaration(rootAttributes: "xmlns:p=\"urn:person:\(Self.notIIN)\" xmlns:q\(Self.notIIN)=\"urn:q\"")
        let (result, json, report) = try filter(message)
        #expect(result.status == 0, "\(json)")
        #expect(report.verdict == .clean)
        #expect(result.stdout == message)
    }

    @Test("element names: IIN_…, a…(glued to a letter), in a prefix and an attribute name — every path and detail masked, the same way each time")
    func elementAndAttributeNames() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        // `quoted`: libxml2's schema message names the element, so the detail holds it too.
        let cases: [(name: String, element: String, maskedStep: String, quoted: Bool)] = [
            ("underscore", "<IIN_\(Self.iin)>x</IIN_\(Self.iin)>", "IIN_\(Self.maskedIIN)", true),
            ("glued", "<a\(Self.iin)>x</a\(Self.iin)>", "a\(Self.maskedIIN)", true),
            ("prefix", "<p\(Self.iin):Note xmlns:p\(Self.iin)=\"urn:x\">x</p\(Self.iin):Note>", "Note", false),
            ("attribute", "<Note x\(Self.iin)=\"1\">x</Note>", "Note", false),
        ]
        var files: [String] = []
        for entry in cases {
            let file = run.directory.appendingPathComponent("\(entry.name).xml")
            try Self.declaration(firstChild: entry.element).write(to: file)
            files.append(file.path)
        }
        let result = try run(["scan", "--format", "ndjson"], files)
        #expect(!result.text.contains(Self.iin), "\(result.text)")
        #expect(!result.stderr.contains(Self.iin), "\(result.stderr)")
        // Reports come in the order the scans finish, not the order of the files.
        let reports = Dictionary(try result.reports().map { ($0.message.source, $0) }, uniquingKeysWith: { first, _ in first })
        try #require(reports.count == cases.count, "\(result.text)")
        for (entry, file) in zip(cases, files) {
            let report = try #require(reports[file], "\(entry.name)")
            #expect(report.verdict == .quarantined, "\(entry.name)")
            let named = try #require(report.findings.first { $0.rule == "kz.iin" }, "\(entry.name): \(report.findings)")
            #expect(named.masked == Self.maskedIIN && named.action == .quarantine, "\(entry.name)")
            let schema = try #require(report.findings.first { $0.rule == "schema.invalid" }, "\(entry.name)")
            #expect(schema.part == "xml:/GoodsDeclaration/\(entry.maskedStep)", "\(entry.name): \(schema.part)")
            #expect(schema.detail.contains(Self.maskedIIN) == entry.quoted, "\(entry.name): \(schema.detail)")
            #expect(named.part == schema.part, "\(entry.name): one element, one masked path")
        }
    }

    @Test("masking does not depend on the route: a KZ IIN in a name on a BY→RU route is still masked in the report")
    func everyPackMasks() throws {
        let message = try Self.declaration(firstChild: "<IIN_\(Self.iin)>x</IIN_\(Self.iin)>")
        let (result, json, report) = try filter(message, ["--from", "BY", "--to", "RU"])
        #expect(result.status == 1)
        #expect(report.engine.rules.contains("KZ") == false, "the KZ pack is not in force: \(report.engine.rules)")
        #expect(report.findings.contains { $0.part == "xml:/GoodsDeclaration/IIN_\(Self.maskedIIN)" }, "\(json)")
        #expect(!json.contains(Self.iin))
    }

    @Test("an IIN in the root's namespace: the document type and the unknown-namespace detail are masked")
    func documentType() throws {
        let message = Data("<?xml version=\"1.0\"?>\n<Person xmlns=\"urn:person:\(Self.iin)\"><Name>x</Name></Person>\n".utf8)
        let (result, json, report) = try filter(message)
        #expect(result.status == 1)
        #expect(report.message.documentType == "{urn:person:\(Self.maskedIIN)}Person")
        #expect(report.findings.contains { $0.rule == "schema.unknown-namespace" && $0.detail.hasSuffix("urn:person:\(Self.maskedIIN)") },
                "\(json)")
        #expect(!json.contains(Self.iin) && !result.stderr.contains(Self.iin))
    }

    @Test("a not-well-formed document: libxml2's message quotes the element name, masked")
    func parserMessage() throws {
        let message = Data("<?xml version=\"1.0\"?>\n<Root><IIN_\(Self.iin)>x</Other></Root>\n".utf8)
        let (result, json, report) = try filter(message)
        #expect(result.status == 1)
        let malformed = try #require(report.findings.first { $0.rule == "xml.malformed" }, "\(json)")
        #expect(malformed.detail.contains("IIN_\(Self.maskedIIN)"), "\(malformed.detail)")
        #expect(!json.contains(Self.iin) && !result.stderr.contains(Self.iin))
    }

    @Test("a classification marking in a namespace URI holds the message like one in text")
    func markingInName() throws {
        let message = try Self.declaration(rootAttributes: "xmlns:g=\"urn:гриф:Секретно\"")
        let (result, json, report) = try filter(message)
        #expect(result.status == 1, "\(json)")
        #expect(report.findings.contains { $0.stage == .marking && $0.action == .quarantine && $0.detail.contains("namespace URI") })
    }

    @Test("a MIME header name holding an IIN: quarantined, the header: path masked")
    func headerName() throws {
        let script = """
        import sys
        from email.message import EmailMessage
        m = EmailMessage()
        m['From'] = 'broker@example.kz'; m['To'] = 'customs@example.ru'; m['Subject'] = 'Declaration'
        m['X-Person-\(Self.iin)'] = 'declarant'
        m.set_content('Nothing personal here.\\n')
        sys.stdout.buffer.write(bytes(m))
        """
        let made = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script])
        try #require(made.status == 0, "\(made.stderr)")
        let (result, json, report) = try filter(made.stdout)
        #expect(result.status == 1, "\(json)")
        let finding = try #require(report.findings.first { $0.rule == "kz.iin" }, "\(json)")
        #expect(finding.part == "header:X-Person-\(Self.maskedIIN)")
        #expect(finding.detail.contains("header name"))
        #expect(!json.contains(Self.iin) && !result.stderr.contains(Self.iin))
    }

    @Test("an attachment's file name holding an IIN: quarantined (a parameter the stage does not rewrite), masked in the report")
    func attachmentFilename() throws {
        let script = """
        import sys
        from email.message import EmailMessage
        m = EmailMessage()
        m['From'] = 'broker@example.kz'; m['To'] = 'customs@example.ru'; m['Subject'] = 'Documents'
        m.set_content('See the attachment.\\n')
        m.add_attachment(b'%PDF-1.4 nothing personal', maintype='application', subtype='pdf', filename='passport-\(Self.iin).pdf')
        sys.stdout.buffer.write(bytes(m))
        """
        let made = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script])
        try #require(made.status == 0, "\(made.stderr)")
        #expect(contains(made.stdout, Self.iin))
        let (result, json, report) = try filter(made.stdout)
        #expect(result.status == 1, "\(json)")
        let finding = try #require(report.findings.first { $0.rule == "kz.iin" }, "\(json)")
        #expect(finding.part == "mime/2" && finding.detail.contains("file name") && finding.masked == Self.maskedIIN)
        #expect(!json.contains(Self.iin) && !result.stderr.contains(Self.iin))
    }

    @Test("the clean fixtures have no identifier in any name: no finding is added")
    func cleanFixturesStayClean() throws {
        let directory = repositoryRoot.appendingPathComponent("fixtures/clean")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0).path }
        let run = try RestrictedRun()
        defer { run.remove() }
        let result = try run(["scan", "--format", "ndjson"], files)
        let reports = try result.reports()
        #expect(reports.count == files.count)
        for report in reports {
            #expect(report.verdict == .clean, "\(report.message.source): \(report.findings)")
        }
    }
}
