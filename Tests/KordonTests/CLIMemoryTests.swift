import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// A message over `limits.maxMessageSize` is counted, digested and refused without
/// being held: `kordon filter` and `kordon scan` stay within a fixed amount of memory
/// whatever the input's size (a 2 GB input used to cost 2 GB).
@Suite("CLI: memory over the size limit", .timeLimit(.minutes(10)))
struct CLIMemoryTests {
    /// Resident memory a refusal of any size may take: the engines (test signatures,
    /// schemas, rule packs) plus a few chunks.
    static let boundedResident = 100 * 1024 * 1024

    /// Runs `kordon` under a Python parent that is its only child's waiter, so the
    /// child's own peak RSS (`wait4`) is measured, not that of other tests' children.
    /// With `stream` bytes, stdin is a pipe fed a chunk at a time: an XML head, then
    /// base64-looking lines, to `stream` bytes in all. Standard output goes to `stdout`
    /// when given. Returns the exit status, the peak RSS in bytes, and the size and
    /// SHA-256 of what was sent.
    static func measured(_ arguments: [String], stream: Int? = nil, stdout: String? = nil)
        throws -> (status: Int32, peak: Int, size: Int, sha256: String) {
        let script = """
        import hashlib, json, os, subprocess, sys
        total, out = int(sys.argv[1]), sys.argv[2]
        stdin = subprocess.PIPE if total >= 0 else subprocess.DEVNULL
        stdout = open(out, "wb") if out != "-" else subprocess.DEVNULL
        child = subprocess.Popen(sys.argv[3:], stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL)
        digest, sent = hashlib.sha256(), 0
        if total >= 0:
            head = b'<?xml version="1.0" encoding="UTF-8"?>\\n<Payload>\\n'
            line = b'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\\n'
            block = line * (1048576 // len(line))
            pieces = [head]
            while sent < total:
                piece = pieces.pop() if pieces else block
                piece = piece[:total - sent]
                try:
                    child.stdin.write(piece)
                except BrokenPipeError:
                    break
                digest.update(piece)
                sent += len(piece)
            try:
                child.stdin.close()
            except BrokenPipeError:
                pass
        _, status, usage = os.wait4(child.pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status), "peak": usage.ru_maxrss * 1024,
                          "size": sent, "sha256": digest.hexdigest()}))
        """
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"),
                             ["python3", "-c", script, String(stream ?? -1), stdout ?? "-", try kordonBinary().path] + arguments)
        try #require(result.status == 0, "the measuring script failed: \(result.stderr)")
        struct Measure: Decodable { var status: Int32; var peak: Int; var size: Int; var sha256: String }
        let measure = try JSONDecoder().decode(Measure.self, from: result.stdout)
        return (measure.status, measure.peak, measure.size, measure.sha256)
    }

    /// A configuration file with `limits.maxMessageSize` set to `bytes`.
    static func config(in directory: URL, maxMessageSize bytes: Int) throws -> String {
        let path = directory.appendingPathComponent("kordon.yaml").path
        try Data("limits:\n  maxMessageSize: \(bytes)\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Reads the one report a command wrote to `path`.
    static func report(at path: String) throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The report of a message refused for its size: held, one `unchecked`
    /// `kordon.message-size` finding, nothing passed on, the whole input's size and digest.
    static func expectRefused(_ report: Report, size: Int, sha256: String, format: String) {
        #expect(report.verdict == .quarantined)
        #expect(report.findings.map(\.rule) == ["kordon.message-size"])
        #expect(report.findings.first?.stage == .unchecked)
        #expect(report.message.size == size)
        #expect(report.message.sha256 == sha256)
        #expect(report.message.format == format)
        #expect(report.output == nil)
    }

    @Test("kordon filter refuses 300 MB streamed through a pipe over a 1 MB limit in bounded memory, digesting all of it")
    func filterStreamOverLimit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.config(in: directory, maxMessageSize: 1 << 20)
        let reportPath = directory.appendingPathComponent("report.json").path
        let size = 300 * 1024 * 1024
        let run = try Self.measured(["filter", "--config", config, "--report", reportPath], stream: size)
        #expect(run.status == 1)
        #expect(run.size == size)
        Self.expectRefused(try Self.report(at: reportPath), size: size, sha256: run.sha256, format: "xml")
        #expect(run.peak < Self.boundedResident, "peak RSS \(run.peak / 1_048_576) MB")
    }

    /// At the default limit (100 MiB) a stream is not held in memory while it arrives either:
    /// it goes through an unlinked temporary file, truncated once it passes the limit.
    @Test("kordon filter refuses 200 MB streamed through a pipe over the default limit in bounded memory")
    func filterStreamOverDefaultLimit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reportPath = directory.appendingPathComponent("report.json").path
        let size = 200 * 1024 * 1024
        let run = try Self.measured(["filter", "--report", reportPath], stream: size)
        #expect(run.status == 1)
        Self.expectRefused(try Self.report(at: reportPath), size: size, sha256: run.sha256, format: "xml")
        #expect(run.peak < Self.boundedResident, "peak RSS \(run.peak / 1_048_576) MB")
    }

    @Test("kordon filter on a stream just inside the limit filters it whole, with the same digest")
    func filterStreamInsideLimit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.config(in: directory, maxMessageSize: 1 << 20)
        let reportPath = directory.appendingPathComponent("report.json").path
        let run = try Self.measured(["filter", "--config", config, "--report", reportPath], stream: 1 << 20)
        let report = try Self.report(at: reportPath)
        #expect(run.status == 1)  // not well-formed: the stream never closes its element
        #expect(report.message.size == 1 << 20)
        #expect(report.message.sha256 == run.sha256)
        // Read whole and given to the XML stage, which refuses the unfinished document.
        #expect(!report.findings.contains { $0.rule == "kordon.message-size" })
        #expect(report.findings.contains { $0.stage == .xml })
    }

    /// A 2 GiB sparse file that starts like an XML document, and its SHA-256.
    static func sparseFile(in directory: URL) throws -> (path: String, size: Int, sha256: String) {
        let path = directory.appendingPathComponent("huge.xml").path
        let head = Data("<?xml version=\"1.0\"?>\n<Declaration>".utf8)
        try head.write(to: URL(fileURLWithPath: path))
        let size = 2 << 30
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        let script = """
        import hashlib, sys
        digest, zeros = hashlib.sha256(sys.argv[1].encode()), bytes(1 << 20)
        left = int(sys.argv[2]) - len(sys.argv[1])
        while left > 0:
            digest.update(zeros[:left])
            left -= len(zeros)
        print(digest.hexdigest())
        """
        let hashed = try run(URL(fileURLWithPath: "/usr/bin/env"),
                             ["python3", "-c", script, String(decoding: head, as: UTF8.self), String(size)])
        try #require(hashed.status == 0, "hashing failed: \(hashed.stderr)")
        return (path, size, hashed.text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("kordon scan and kordon filter FILE refuse a 2 GiB sparse file without reading it into memory")
    func scanSparseFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try Self.sparseFile(in: directory)
        let reportPath = directory.appendingPathComponent("scan.ndjson").path
        let scan = try Self.measured(["scan", "--format", "ndjson", file.path], stdout: reportPath)
        #expect(scan.status == 1)
        #expect(scan.peak < Self.boundedResident, "kordon scan peak RSS \(scan.peak / 1_048_576) MB")
        let lines = try String(contentsOfFile: reportPath, encoding: .utf8).split(separator: "\n")
        try #require(lines.count == 1)
        Self.expectRefused(try JSONDecoder().decode(Report.self, from: Data(lines[0].utf8)),
                           size: file.size, sha256: file.sha256, format: "xml")

        let filterReport = directory.appendingPathComponent("filter.json").path
        let filter = try Self.measured(["filter", "--report", filterReport, file.path])
        #expect(filter.status == 1)
        #expect(filter.peak < Self.boundedResident, "kordon filter peak RSS \(filter.peak / 1_048_576) MB")
        Self.expectRefused(try Self.report(at: filterReport), size: file.size, sha256: file.sha256, format: "xml")
    }
}

/// A message within the limit costs a bounded multiple of its size, not six copies of it.
@Suite("CLI: memory of a large message within the limit", .timeLimit(.minutes(10)))
struct CLILargeMessageMemoryTests {
    @Test("kordon filter passes a 30 MB declaration with one attachment using at most 3.2 times its size above the engines")
    func largeDeclaration() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let large = directory.appendingPathComponent("large"), small = directory.appendingPathComponent("small")
        try makeCorpus(in: large, ["--count", "1", "--attachment-size", String(22_500_000)])
        try makeCorpus(in: small, ["--count", "1", "--attachment-size", "1024"])
        let document = try #require(try FileManager.default.contentsOfDirectory(atPath: large.path).first)
        let path = large.appendingPathComponent(document).path
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let tiny = small.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: small.path).first)).path

        let engines = try CLIMemoryTests.measured(["filter", tiny])
        let filtered = try CLIMemoryTests.measured(["filter", "--report", directory.appendingPathComponent("r.json").path, path])
        #expect(engines.status == 0)
        #expect(filtered.status == 0)
        let report = try CLIMemoryTests.report(at: directory.appendingPathComponent("r.json").path)
        #expect(report.verdict == .clean)
        #expect(report.message.size == size)
        let perByte = Double(filtered.peak - engines.peak) / Double(size)
        #expect(perByte <= 3.2, "peak RSS \(filtered.peak / 1_048_576) MB, engines \(engines.peak / 1_048_576) MB: \(perByte)x the message")
    }
}
