import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// XML attacks through `kordon filter`: each refused with an `xml` finding,
/// quickly, in bounded memory, without reading a file or opening a connection.
@Suite("XML attacks", .timeLimit(.minutes(10)))
struct CLIAttackTests {
    /// A file whose content must never appear in any output.
    static func canary() throws -> (URL, String) {
        let token = "CANARY-\(UUID().uuidString)"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-canary-\(UUID().uuidString).txt")
        try Data(token.utf8).write(to: url)
        return (url, token)
    }

    static let namespace = "urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0"

    /// The attacks, built around a canary file.
    static func attacks(canary: URL) -> [(String, Data)] {
        let laughs = (1...9).map { i in "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">" }.joined()
        var many = "<GoodsDeclaration xmlns=\"\(namespace)\""
        for i in 0..<200_000 { many += " a\(i)=\"\"" }
        many += "/>"
        return [
            ("billion laughs", "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY l0 \"lol\">\(laughs)]><d>&l9;</d>"),
            ("external entity", "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file://\(canary.path)\">]><d>&x;</d>"),
            ("external DTD", "<?xml version=\"1.0\"?><!DOCTYPE d SYSTEM \"http://127.0.0.1:9/evil.dtd\"><d/>"),
            ("parameter entity", "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY % p SYSTEM \"file://\(canary.path)\"> %p;]><d/>"),
            ("XInclude", "<d xmlns=\"\(namespace)\" xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"\(canary.path)\" parse=\"text\"/></d>"),
            ("deep nesting", String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)),
            ("200,000 attributes", many),
            ("huge attribute", "<d xmlns=\"\(namespace)\" a=\"" + String(repeating: "A", count: 4 << 20) + "\"/>"),
            ("truncated", "<?xml version=\"1.0\"?><GoodsDeclaration xmlns=\"\(namespace)\"><EDocCode>R.0"),
            ("binary tail", "<?xml version=\"1.0\"?><GoodsDeclaration xmlns=\"\(namespace)\"><EDocCode>\u{1}\u{2}\u{7F}\u{0}\u{FFFD}"),
            ("empty", ""),
        ].map { ($0.0, Data($0.1.utf8)) }
    }

    @Test("each attack is quarantined with an xml finding without hanging, in under 300 MB, leaking nothing")
    func attacksAreRefused() throws {
        let (canary, token) = try Self.canary()
        defer { try? FileManager.default.removeItem(at: canary) }
        for (name, document) in Self.attacks(canary: canary) {
            let started = ContinuousClock.now
            let directory = try temporaryDirectory("attack")
            defer { try? FileManager.default.removeItem(at: directory) }
            let reportFile = directory.appendingPathComponent("report.json")
            let (result, peakKB) = try Self.kordonMeasured(["filter", "--report", reportFile.path], stdin: document)
            // The child's own peak: other tests' children (a compressor fed a gigabyte) run at the same time.
            #expect(peakKB < 300 * 1024, "\(name): peak RSS \(peakKB) KB")
            let elapsed = ContinuousClock.now - started
            let reportText = try String(contentsOf: reportFile, encoding: .utf8)
            let report = try JSONDecoder().decode(Report.self, from: Data(reportText.utf8))
            #expect(result.status == 1, "\(name): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(name)")
            #expect(report.findings.contains { $0.stage == .xml }, "\(name): \(report.findings)")
            // A hang guard, not a speed target (those live in Benchmarks/): the whole process,
            // start-up included, on a loaded 2-core CI machine. xmllint needs minutes on some of these.
            #expect(elapsed < .seconds(15), "\(name) took \(elapsed)")
            #expect(!reportText.contains(token) && !result.stderr.contains(token), "\(name) leaked the canary")
        }
    }

    /// Runs `kordon` as the only child of a Python parent that waits for it (`wait4`) and
    /// appends the child's own peak RSS, in KB, to standard error as a last `PEAK` line.
    private static func kordonMeasured(_ arguments: [String], stdin: Data) throws -> (CommandResult, Int) {
        let parent = """
            import os, subprocess, sys
            child = subprocess.Popen(sys.argv[1:])
            _, status, usage = os.wait4(child.pid, 0)
            sys.stderr.write('\\nPEAK %d\\n' % usage.ru_maxrss)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        var result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", parent, try kordonBinary().path] + arguments,
                             stdin: stdin)
        let lines = result.stderr.split(separator: "\n")
        let peak = try #require(lines.last.flatMap { $0.hasPrefix("PEAK ") ? Int($0.dropFirst(5)) : nil }, "\(result.stderr)")
        result.stderr = lines.dropLast().joined(separator: "\n")
        return (result, peak)
    }

    @Test("the attack fixtures in fixtures/attacks are all quarantined with an xml finding")
    func attackFixtures() throws {
        let result = try kordon(["scan", "--format", "ndjson", repositoryRoot.appendingPathComponent("fixtures/attacks").path])
        #expect(result.status == 1)
        let reports = try result.reports()
        #expect(reports.count >= 10)
        for report in reports {
            #expect(report.verdict == .quarantined, "\(report.message.source)")
            #expect(report.findings.contains { $0.stage == .xml }, "\(report.message.source): \(report.findings)")
        }
        #expect(!result.text.contains("root:x:0:0"))
    }
}
