import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// `kordon filter` and `kordon selftest`: one message through the real CLI.
@Suite("kordon filter", .timeLimit(.minutes(10)))
struct CLIFilterTests {
    /// A schema-valid declaration from the generator, with `payload` as its attachment.
    func declaration(embedding payload: Data?) throws -> Data {
        let directory = try temporaryDirectory("decl")
        defer { try? FileManager.default.removeItem(at: directory) }
        var arguments = ["--count", "1", "--format", "xml", "--seed", "3"]
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

    @Test("a clean message is passed byte for byte, exit 0")
    func cleanPassesUnchanged() throws {
        let message = try declaration(embedding: nil)
        let directory = try temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let reportFile = directory.appendingPathComponent("report.json")
        let result = try kordon(["filter", "--report", reportFile.path], stdin: message)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == message)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        #expect(report.verdict == .clean)
        #expect(report.message.format == "xml")
        #expect(report.message.documentType?.hasSuffix("}GoodsDeclaration") == true)
        #expect(report.output?.sha256 == report.message.sha256)
    }

    @Test("EICAR base64 inside an element is caught; nothing is written to stdout; exit 1")
    func eicarInsideXML() throws {
        let message = try declaration(embedding: eicar)
        let directory = try temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let reportFile = directory.appendingPathComponent("report.json")
        let result = try kordon(["filter", "--report", reportFile.path, "-"], stdin: message)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        #expect(report.verdict == .quarantined)
        #expect(report.output == nil)
        #expect(report.findings.contains { $0.stage == .virus && $0.rule.contains("EICAR") && $0.part.hasPrefix("xml:/") })
    }

    @Test("plain ClamAV misses what Kordon catches: clamscan passes the same document")
    func clamscanMissesEmbedded() throws {
        let message = try declaration(embedding: eicar)
        let directory = try temporaryDirectory("peer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("decl.xml")
        try message.write(to: file)
        let clamscan = try run(URL(fileURLWithPath: "/usr/bin/clamscan"),
                               ["--no-summary", "-d", repositoryRoot.appendingPathComponent("signatures").path, file.path])
        #expect(clamscan.status == 0, "clamscan now decodes base64 in XML: \(clamscan.text)")
        #expect(try kordon(["filter", file.path]).status == 1)
    }

    @Test("selftest proves EICAR and clam.exe are caught in every form")
    func selftest() throws {
        let result = try kordon(["selftest"])
        #expect(result.status == 0, "\(result.text)\(result.stderr)")
        #expect(result.text.contains("selftest passed"))
        #expect(!result.text.contains("MISSED"))
    }
}
