import Foundation
import KordonCore
import Testing

/// The restricted-data stage through `kordon filter`: what is masked, kept, reported
/// and held, and that no restricted value ever reaches an output or a report.
@Suite("restricted data through kordon filter", .timeLimit(.minutes(10)))
struct CLIRestrictedTests {
    @Test("personal identifiers of every kind are sanitized; the output still validates and holds none of them",
          arguments: ["declaration-person-kz-ru.xml", "declaration-person-by-kg.xml", "declaration-person-am-ru.xml"])
    func personalDataIsSanitized(fixture: String) throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter(fixture)
        #expect(report.verdict == .sanitized, "\(report.findings)")
        #expect(result.status == 0, "\(result.stderr)")
        let reportJSON = report.jsonLine()
        for value in personalValues {
            #expect(!contains(result.stdout, value), "\(value) is still in the output of \(fixture)")
            #expect(!reportJSON.contains(value), "\(value) is in the report of \(fixture)")
        }
        #expect(try xmllintProblem(result.stdout) == nil)
        #expect(report.output?.sha256 != report.message.sha256)
        let changed = report.findings.filter { [.mask, .pseudonymize, .strip].contains($0.action) }
        #expect(!changed.isEmpty)
        #expect(changed.allSatisfy { $0.stage == .restricted && $0.category != nil && $0.masked != nil })
    }

    @Test("the KZ→RU declaration: each personal kind found, organization identifiers reported and left in place")
    func kindsAndOrganizations() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter("declaration-person-kz-ru.xml")
        #expect(report.message.route == Report.Route(from: "KZ", to: "RU"))
        #expect(report.engine.rules.contains("KZ@") && report.engine.rules.contains("RU@") && report.engine.rules.contains("EAEU@"))
        let masked = report.findings.filter { $0.action == .mask }.map(\.masked)
        #expect(masked.contains("7910••••2728"), "\(masked)")
        for value in ["940140000385", "7707083893", "1027700132195", "304500116000157"] {
            #expect(contains(result.stdout, value), "organization identifier \(value) was changed")
        }
        let reported = report.findings.filter { $0.action == .report && $0.category == "public-registry" }
        #expect(reported.count >= 4, "\(report.findings)")
        #expect(report.findings.contains { $0.action == .pseudonymize && $0.part.hasSuffix("/PersonId") })
    }

    @Test("organization identifiers alone: reported, the message passes byte for byte")
    func organizationsOnly() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter("declaration-organizations.xml")
        #expect(report.verdict == .clean, "\(report.findings)")
        #expect(result.stdout == (try Data(contentsOf: restrictedFixtures.appendingPathComponent("declaration-organizations.xml"))))
        #expect(report.findings.count >= 4)
        #expect(report.findings.allSatisfy { $0.action == .report && $0.stage == .restricted })
    }

    @Test("a person's IIN as TaxpayerId is kept for customs purposes and reported")
    func keptField() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter("declaration-entrepreneur.xml")
        #expect(report.verdict == .clean, "\(report.findings)")
        #expect(contains(result.stdout, "791028302728"))
        let kept = try #require(report.findings.first { $0.part.hasSuffix("DeclarantDetails/TaxpayerId") })
        #expect(kept.action == .report && kept.category == "personal-data" && kept.masked == "7910••••2728")
        #expect(!report.jsonLine().contains("791028302728"))
    }

    @Test("pseudonyms are stable for one key and differ between keys")
    func pseudonymsAreKeyed() throws {
        func personId(_ key: [UInt8]) throws -> String {
            let run = try RestrictedRun(key: key)
            defer { run.remove() }
            let (result, _) = try run.filter("declaration-person-kz-ru.xml")
            let text = result.text
            let start = try #require(text.range(of: "<casdo:PersonId>")).upperBound
            let end = try #require(text.range(of: "</casdo:PersonId>")).lowerBound
            return String(text[start..<end])
        }
        let a1 = try personId(Array(repeating: 1, count: 32)), a2 = try personId(Array(repeating: 1, count: 32))
        let b = try personId(Array(repeating: 2, count: 32))
        #expect(a1 == a2)
        #expect(a1 != b)
        #expect(a1.count == 12 && a1.allSatisfy(\.isNumber) && a1 != "061211600012")
    }

    @Test("a sanitized output filtered again: no identifier is left for the detectors; masks are not masked again")
    func nothingLeftToFind() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (first, _) = try run.filter("declaration-person-kz-ru.xml")
        let reportFile = run.directory.appendingPathComponent("second.json")
        let second = try run(["filter"], ["--report", reportFile.path, "-"], stdin: first.stdout)
        #expect(second.status == 0)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        // Only the element rule that pseudonymizes PersonId acts again (a pseudonym is a value like any other);
        // no detector finds personal data, and the masked DocId is left as it is.
        let changes = report.findings.filter { [.mask, .pseudonymize, .strip].contains($0.action) }
        #expect(changes.map(\.rule) == ["eaeu.person-id"], "\(changes)")
        #expect(!report.findings.contains { $0.part.hasSuffix("/DocId") })
    }

    @Test("classification markings hold the message, look-alike spellings too",
          arguments: ["marking-dsp.xml", "marking-lookalike.xml", "marking-kk.xml", "marking-am.xml"])
    func markingsQuarantine(fixture: String) throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter(fixture)
        #expect(report.verdict == .quarantined)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(report.findings.contains { $0.stage == .marking && $0.action == .quarantine })
    }

    @Test("the same words inside other words, and ДСП the chipboard, are not markings")
    func wordsAreNotMarkings() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (_, report) = try run.filter("words-not-markings.xml")
        #expect(report.verdict == .clean, "\(report.findings)")
    }

    @Test("personal data in an attachment that cannot be edited holds the message")
    func uneditableAttachment() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (_, report) = try run.filter("declaration-attachment-iin.xml")
        #expect(report.verdict == .quarantined, "\(report.findings)")
        let finding = try #require(report.findings.first { $0.stage == .restricted })
        #expect(finding.part.hasSuffix("AttachedDocument/Content"))
        #expect(finding.masked == "7910••••2728")
    }

    @Test("a text file is sanitized in place")
    func plainText() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let (result, report) = try run.filter("note-person.txt")
        #expect(report.verdict == .sanitized, "\(report.findings)")
        #expect(!contains(result.stdout, "061211600012") && !contains(result.stdout, "123456"))
        #expect(contains(result.stdout, "Служебная записка"))
    }
}
