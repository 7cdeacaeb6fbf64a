import Foundation
import KordonTestSupport
import KordonCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kordon scan`: batch scanning through the real CLI, on real inputs.
@Suite("kordon scan", .timeLimit(.minutes(10)))
struct CLIScanTests {
    @Test("every ClamAV test file, base64 inside a schema-valid XML element or attached to MIME, is quarantined as a virus")
    func clamTestFilesEmbedded() throws {
        let corpus = try temporaryDirectory("embedded")
        defer { try? FileManager.default.removeItem(at: corpus) }
        try makeCorpus(in: corpus, ["--embed-dir", clamTestFiles.path, "--format", "both"])
        let schemas = repositoryRoot.appendingPathComponent("schemas").path
        let result = try kordon(["scan", "--format", "ndjson", "--schemas", schemas, corpus.path])
        #expect(result.status == 1)
        let reports = try result.reports()
        let testFiles = try FileManager.default.contentsOfDirectory(atPath: clamTestFiles.path)
        #expect(testFiles.count == 44)
        #expect(reports.count == 2 * testFiles.count)
        for report in reports {
            #expect(report.verdict == .quarantined, "\(report.message.source)")
            let viruses = report.findings.filter { $0.stage == .virus && $0.rule.contains("Kordon.Test.ClamAV-TestFile") }
            #expect(!viruses.isEmpty, "\(report.message.source): \(report.findings.map(\.rule))")
            // The catch must come from the decoded part, not only from the raw message.
            let decodedPrefix = report.message.format == "xml" ? "xml:" : "mime/"
            #expect(viruses.contains { $0.part.hasPrefix(decodedPrefix) }, "\(report.message.source): \(viruses.map(\.part))")
        }
    }

    @Test("a thousand clean schema-valid messages, XML and MIME, give no false positive")
    func noFalsePositives() throws {
        let corpus = try temporaryDirectory("clean")
        defer { try? FileManager.default.removeItem(at: corpus) }
        try makeCorpus(in: corpus, ["--count", "500", "--attachment-size", "8192", "--format", "both", "--seed", "7"])
        let result = try kordon(["scan", "--format", "ndjson", corpus.path])
        let reports = try result.reports()
        #expect(reports.count == 1000)
        let dirty = reports.filter { $0.verdict != .clean }
        #expect(dirty.isEmpty, "\(dirty.prefix(3).map { "\($0.message.source): \($0.findings)" })")
        #expect(result.status == 0)
    }

    @Test("the sample clean messages are clean and the text summary counts them")
    func cleanFixtures() throws {
        let result = try kordon(["scan", repositoryRoot.appendingPathComponent("fixtures/clean").path])
        #expect(result.status == 0, "\(result.text)")
        #expect(result.text.contains(" 0 quarantined"))
        #expect(!result.text.contains("quarantined  "))
    }

    @Test("invalid documents are quarantined with a schema finding at the failing element")
    func invalidFixtures() throws {
        let result = try kordon(["scan", "--format", "ndjson", repositoryRoot.appendingPathComponent("fixtures/invalid").path])
        #expect(result.status == 1)
        let reports = try result.reports()
        #expect(!reports.isEmpty)
        for report in reports {
            #expect(report.verdict == .quarantined, "\(report.message.source)")
            #expect(report.findings.contains { $0.stage == .schema || $0.stage == .unchecked || $0.stage == .xml },
                    "\(report.message.source): \(report.findings)")
        }
        let schemaFindings = reports.flatMap(\.findings).filter { $0.rule == "schema.invalid" }
        #expect(schemaFindings.contains { $0.part.hasPrefix("xml:/") && $0.detail.contains("line") })
        #expect(reports.flatMap(\.findings).contains { $0.detail.contains("no agreed schema") })
    }

    @Test("malformed MIME, bad base64 and binary garbage each get a verdict and a report, never a crash")
    func malformedInputs() throws {
        let corpus = try temporaryDirectory("garbage")
        defer { try? FileManager.default.removeItem(at: corpus) }
        var generator = SystemRandomNumberGenerator()
        for index in 0..<20 {
            let bytes = (0..<(index * 997 + 1)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: corpus.appendingPathComponent("random-\(index).bin"))
        }
        try Data("From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!***\r\n".utf8)
            .write(to: corpus.appendingPathComponent("broken.eml"))
        let mime = repositoryRoot.appendingPathComponent("fixtures/mime").path
        let result = try kordon(["scan", "--format", "ndjson", corpus.path, mime])
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        let reports = try result.reports()
        #expect(reports.count >= 21)
        let broken = try #require(reports.first { $0.message.source.hasSuffix("broken.eml") })
        #expect(broken.verdict == .quarantined)
    }

    @Test("usage and start-up errors exit with 2 and say what to do")
    func startupErrors() throws {
        let missing = try kordon(["scan", "/nonexistent/path"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/path"))
        let badSignatures = try kordon(["scan", "--signatures", "/nonexistent/sigs", repositoryRoot.appendingPathComponent("fixtures/clean").path])
        #expect(badSignatures.status == 2)
        #expect(badSignatures.stderr.contains("/nonexistent/sigs"))
        #expect(try kordon(["scan", "--format", "yaml", "x"]).status == 2)
        #expect(try kordon(["scan"]).status == 2)
    }

    @Test("a configuration file with an unknown key is refused, naming the file and line")
    func badConfiguration() throws {
        let directory = try temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("kordon.yaml")
        try "limits:\n  maxXMLDepth: 64\n  maxDepht: 3\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try kordon(["scan", "--config", config.path, repositoryRoot.appendingPathComponent("fixtures/clean").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("kordon.yaml:3"))
        #expect(result.stderr.contains("maxDepht"))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("scan.temporaryDirectory: libclamav makes its scratch directories there and nowhere else; a path it cannot use is refused at start")
    func scratchDirectory() throws {
        let directory = try temporaryDirectory("scratch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let scratch = directory.appendingPathComponent("scratch"), elsewhere = directory.appendingPathComponent("elsewhere")
        for folder in [scratch, elsewhere] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let config = directory.appendingPathComponent("kordon.yaml")
        try "scan:\n  temporaryDirectory: \(scratch.path)\n".write(to: config, atomically: true, encoding: .utf8)
        // Watch both folders: the scratch must get libclamav's directories, TMPDIR none.
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        try #require(inotify >= 0)
        defer { close(inotify) }
        let scratchWatch = inotify_add_watch(inotify, scratch.path, UInt32(IN_CREATE))
        let elsewhereWatch = inotify_add_watch(inotify, elsewhere.path, UInt32(IN_CREATE))
        let clean = repositoryRoot.appendingPathComponent("fixtures/clean").path
        let result = try run(try kordonBinary(), ["scan", "--config", config.path, clean],
                             environment: ProcessInfo.processInfo.environment.merging(["TMPDIR": elsewhere.path]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        var created: [Int32: Int] = [:]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while case let count = buffer.withUnsafeMutableBytes({ read(inotify, $0.baseAddress, $0.count) }), count > 0 {
            var offset = 0
            while offset + 16 <= count {
                let watch = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) }
                let length = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
                created[watch, default: 0] += 1
                offset += 16 + Int(length)
            }
        }
        #expect(created[scratchWatch, default: 0] > 0, "libclamav made nothing in scan.temporaryDirectory")
        #expect(created[elsewhereWatch, default: 0] == 0, "libclamav still used TMPDIR")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "scratch left behind")

        try "scan:\n  temporaryDirectory: \(directory.appendingPathComponent("missing").path)\n".write(to: config, atomically: true, encoding: .utf8)
        let refused = try kordon(["scan", "--config", config.path, clean])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("scan.temporaryDirectory"))
    }
}

