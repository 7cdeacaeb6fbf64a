import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// Operator packs and false positives, end to end.
@Suite("restricted data: operator packs and false positives", .timeLimit(.minutes(10)))
struct CLIRestrictedPolicyTests {
    @Test("a strip of a required simple element leaves it with nothing of its value; one that would still break the document holds the message")
    func requiredStrip() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        func pack(_ name: String, _ select: String) throws -> URL {
            let packs = run.directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: packs, withIntermediateDirectories: true)
            try """
            pack: OPS
            version: 1
            title: An operator's own pack
            legalBasis: [Local instruction No. 1]
            categories: [personal-data]
            uneditable: {personal-data: quarantine}
            namespaces:
              csdo: [urn:kordon:sample:EEC:M:SimpleDataObjects:v1.0]
              gd: [urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0]
            elementRules:
              - id: ops.strip
                select: \(select)
                action: strip
                category: personal-data
            """.write(to: packs.appendingPathComponent("OPS.yaml"), atomically: true, encoding: .utf8)
            return packs
        }
        // csdo:SubjectName is required and a string of 1-300 characters: every letter and digit is hidden.
        let (kept, keptReport) = try run.filter("declaration-organizations.xml", ["--rules", try pack("names", "//csdo:SubjectName").path])
        #expect(keptReport.verdict == .sanitized, "\(keptReport.findings)")
        #expect(kept.status == 0)
        #expect(contains(kept.stdout, "<csdo:SubjectName>••• «•••• ••••••••» (••• ••••••••••••)</csdo:SubjectName>"))
        #expect(!contains(kept.stdout, "«Омский Агроцентр»"))
        #expect(keptReport.findings.filter { $0.rule == "ops.strip" }.allSatisfy { $0.detail.contains("required by the schema") })
        // ConsigneeDetails is required and holds elements, not a value: removing it breaks the document.
        let (result, report) = try run.filter("declaration-organizations.xml", ["--rules", try pack("parties", "//gd:ConsigneeDetails").path])
        #expect(report.verdict == .quarantined, "\(report.findings)")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let held = try #require(report.findings.first { $0.rule == "restricted.revalidation" })
        #expect(held.action == .quarantine)
        #expect(held.detail.contains("no longer validates"))
        #expect(report.engine.rules.contains("OPS@1"))
    }

    @Test("a pack that does not load is a start-up error naming the file and line")
    func badPack() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let packs = run.directory.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: packs, withIntermediateDirectories: true)
        try "pack: BAD\nversion: 1\ntitle: x\nlegalBasis: [x]\ncategories: [personal-data]\ncolour: blue\n"
            .write(to: packs.appendingPathComponent("BAD.yaml"), atomically: true, encoding: .utf8)
        let result = try run(["filter"], ["--rules", packs.path, "-"], stdin: Data("<a/>".utf8))
        #expect(result.status == 2)
        #expect(result.stderr.contains("BAD.yaml:6"), "\(result.stderr)")
    }

    @Test("10,000 numbers of every identifier shape whose checksums fail, dates, phones, HS codes and amounts pass untouched")
    func noFalsePositives() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let script = """
        import random, sys
        sys.path.insert(0, sys.argv[1])
        import kordon_synthetic as syn
        rng = random.Random(2026)
        lines = []
        for i in range(10000):
            n = syn.synthetic_number(rng, rng.choice((9, 10, 11, 12, 13, 14, 15)))
            lines.append(rng.choice(("ИНН %s", "ИИН %s", "СНИЛС %s", "ОГРН %s", "УНП %s", "номер %s", "%s")) % n)
        for i in range(500):
            lines.append("Дата %02d.%02d.%04d, время 2025%02d%02d%02d%02d00" % (rng.randint(1, 28), rng.randint(1, 12),
                         rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)))
            lines.append("Тел. +7 7%02d %03d-%02d-%02d, моб. 8701%07d" % (rng.randint(0, 99), rng.randint(0, 999),
                         rng.randint(0, 99), rng.randint(0, 99), rng.randint(0, 9999999)))
            lines.append("Код ТН ВЭД %010d, сумма %d %03d %03d,%02d руб." % (rng.randint(100000000, 9799999999),
                         rng.randint(1, 999), rng.randint(0, 999), rng.randint(0, 999), rng.randint(0, 99)))
            lines.append("Amount %d.%02d USD" % (rng.randint(10**9, 10**12), rng.randint(0, 99)))
        sys.stdout.write("\\n".join(lines) + "\\n")
        """
        let made = try KordonTests.run(URL(fileURLWithPath: "/usr/bin/env"),
                                       ["python3", "-c", script, repositoryRoot.appendingPathComponent("fixtures").path])
        try #require(made.status == 0, "\(made.stderr)")
        let reportFile = run.directory.appendingPathComponent("numbers.json")
        let result = try run(["filter"], ["--report", reportFile.path, "-"], stdin: made.stdout)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        #expect(report.findings.isEmpty, "\(report.findings.prefix(5))")
        #expect(report.verdict == .clean)
        #expect(result.stdout == made.stdout)
    }
}
