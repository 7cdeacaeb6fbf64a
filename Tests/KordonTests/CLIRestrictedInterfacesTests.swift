import Foundation
import KordonCore
import Testing

/// The restricted-data stage in every form and interface: MIME, archives, audit
/// scans, routes, `kordon rules`.
@Suite("restricted data: forms and interfaces", .timeLimit(.minutes(10)))
struct CLIRestrictedInterfacesTests {
    /// Every header and decoded part of a MIME message, as Python's `email` reads it.
    func decodedMIME(_ data: Data) throws -> String {
        let script = """
        import sys, email
        from email.policy import default
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=default)
        for part in m.walk():
            for k, v in part.items(): print(k, ":", v)
            if not part.is_multipart(): print(part.get_payload(decode=True).decode("utf-8", "replace"))
        """
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], stdin: data)
        try #require(result.status == 0, "python could not read the message: \(result.stderr)")
        return result.text
    }

    @Test("a MIME message: Subject, text body, CSV attachment and XML attachment are all sanitized")
    func mimeMessage() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter("email-person.eml")
        #expect(report.verdict == .sanitized, "\(report.findings)")
        let decoded = try decodedMIME(result.stdout)
        for value in personalValues { #expect(!decoded.contains(value), "\(value) survived in the MIME output") }
        #expect(decoded.contains("Декларация ИП Ахметов"))
        #expect(decoded.contains("7707083893"), "an organization INN in the body is left alone")
        let parts = Set(report.findings.filter { $0.action == .mask }.map(\.part))
        #expect(parts.contains("header:Subject"), "\(parts)")
        #expect(parts.contains { $0.hasPrefix("mime/") && $0.contains("xml:") })
        #expect(!report.jsonLine().contains("791028302728"))
    }

    @Test("a text file inside a zip is read through libclamav's unpacking and holds the message")
    func archiveMember() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let zip = run.directory.appendingPathComponent("letters.zip")
        let script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); z.writestr('letter.txt','Получатель: ИИН 061211600012\\n'); z.close()"
        let made = try KordonTests.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, zip.path])
        try #require(made.status == 0, "\(made.stderr)")
        let result = try run(["scan", "--format", "ndjson"], [zip.path])
        let report = try #require(try result.reports().first)
        #expect(report.verdict == .quarantined, "\(report.findings)")
        let finding = try #require(report.findings.first { $0.stage == .restricted })
        #expect(finding.part.contains("unpacked"))
        #expect(finding.masked == "0612••••0012")
        #expect(!result.text.contains("061211600012"))
    }

    @Test("scan --mode audit lists what the packs would do and never the values")
    func auditScan() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let result = try run(["scan", "--format", "ndjson"], ["--mode", "audit", restrictedFixtures.path])
        let reports = try result.reports()
        #expect(reports.count == 13)
        for value in personalValues { #expect(!result.text.contains(value), "\(value) in the audit report") }
        let person = try #require(reports.first { $0.message.source.hasSuffix("declaration-person-kz-ru.xml") })
        #expect(person.verdict == .sanitized)
        #expect(person.output == nil, "an audit passes nothing on")
        #expect(person.findings.contains { $0.action == .mask })
        #expect(reports.first { $0.message.source.hasSuffix("marking-dsp.xml") }?.verdict == .quarantined)
    }

    @Test("--from/--to choose the packs: without the KG pack a KG PIN is not looked for")
    func routeChoosesPacks() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (_, byDocument) = try run.filter("declaration-person-by-kg.xml")
        #expect(byDocument.message.route == Report.Route(from: "BY", to: "KG"))
        #expect(byDocument.findings.contains { $0.rule.hasPrefix("kg.") })
        let (_, byOption) = try run.filter("declaration-person-by-kg.xml", ["--from", "RU", "--to", "KZ"])
        #expect(byOption.message.route == Report.Route(from: "RU", to: "KZ"))
        #expect(!byOption.engine.rules.contains("KG@"))
        #expect(!byOption.findings.contains { $0.rule.hasPrefix("kg.") })
        let bad = try run(["filter"], ["--from", "Kazakhstan", "-"], stdin: Data("x".utf8))
        #expect(bad.status == 2)
    }

    @Test("kordon rules list names every pack with its version, legal basis and rules")
    func rulesList() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let result = try run(["rules", "list"])
        #expect(result.status == 0, "\(result.stderr)")
        for pack in ["EAEU", "KZ", "RU", "BY", "KG", "AM"] {
            #expect(result.text.contains("\n\(pack) ") || result.text.hasPrefix("\(pack) "), "\(pack) missing")
        }
        #expect(result.text.contains("legal basis:"))
        #expect(result.text.contains("kz.iin"))
        #expect(result.text.contains("//casdo:PersonId"))
    }

    @Test("kordon rules test shows what would be done, with masked values only, and changes nothing")
    func rulesTest() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let fixture = restrictedFixtures.appendingPathComponent("declaration-person-kz-ru.xml")
        let before = try Data(contentsOf: fixture)
        let result = try run(["rules", "test"], [fixture.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.contains("route KZ → RU"))
        #expect(result.text.contains("7910••••2728"))
        #expect(result.text.contains("verdict: sanitized"))
        for value in personalValues { #expect(!result.text.contains(value)) }
        #expect(try Data(contentsOf: fixture) == before)
        let marking = try run(["rules", "test"], [restrictedFixtures.appendingPathComponent("marking-lookalike.xml").path])
        #expect(marking.status == 1)
        #expect(marking.text.contains("verdict: quarantined"))
    }
}
