import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// libclamav reports CLEAN when a limit stops it, unless told otherwise;
/// Kordon must report such parts as `unchecked` (and so quarantine them).
@Suite("Parts ClamAV cannot fully check fail closed", .timeLimit(.minutes(10)))
struct ClamFailClosedTests {
    /// Builds an archive with Python's standard library from `files` (name → bytes).
    private static func archive(_ kind: String, _ files: [String: Data]) throws -> Data {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, data) in files {
            try data.write(to: directory.appendingPathComponent(name))
        }
        let names = files.keys.sorted().map { "'\($0)'" }.joined(separator: ",")
        let script: String
        switch kind {
        case "zip":
            script = "import zipfile\nwith zipfile.ZipFile('out', 'w', zipfile.ZIP_DEFLATED) as z:\n"
                + "    for n in [\(names)]: z.write(n)\n"
        default:
            script = "import tarfile\nwith tarfile.open('out', 'w:gz') as t:\n"
                + "    for n in [\(names)]: t.add(n)\n"
        }
        try Fixtures.run("python3", ["-c", script], in: directory)
        return try Data(contentsOf: directory.appendingPathComponent("out"))
    }

    /// 256 KB of zeros, then EICAR: far past a 16 KB file limit, tiny once compressed.
    private static let paddedEicar = Data(repeating: 0, count: 256 * 1024) + Fixtures.eicar

    private static func tinyFileLimit() throws -> ClamEngine {
        var limits = Limits()
        limits.clamMaxFileSize = 16 * 1024
        return try Fixtures.engine(limits: limits)
    }

    @Test("a file inside an archive above MaxFileSize is unchecked, not clean",
          arguments: ["zip", "tar.gz"])
    func maxFileSizeInArchive(_ kind: String) throws {
        let data = try Self.archive(kind, ["payload.bin": Self.paddedEicar])
        #expect(data.count < 16 * 1024, "the archive itself is under the limit")
        // The default engine looks inside and finds the virus...
        #expect(!(try Fixtures.engine().scan(data, part: .message).stage(.virus).isEmpty))
        // ...the limited one cannot, and says so (libclamav's zip unpacker
        // silently trims the member: Kordon flags it itself), every time:
        // a part that was not fully checked must never be cached as clean.
        let engine = try Self.tinyFileLimit()
        for _ in 0..<2 {
            let findings = engine.scan(data, part: .message.mime([3]), filename: "a.\(kind)")
            let unchecked = findings.stage(.unchecked)
            #expect(unchecked.contains { $0.rule.hasSuffix("Limits.Exceeded.MaxFileSize") }, "\(findings)")
            #expect(unchecked.allSatisfy {
                $0.part == "mime/3" && $0.action == .quarantine && $0.detail.contains("MaxFileSize")
            })
            #expect(!findings.contains { $0.rule.hasPrefix("Detected.By.Callback") })
        }
    }

    @Test("a part above MaxFileSize itself is unchecked")
    func maxFileSizeTopLevel() throws {
        let findings = try Self.tinyFileLimit().scan(Fixtures.pseudoRandomBytes(64 * 1024), part: .message)
        #expect(findings.stage(.unchecked).contains { $0.rule.hasPrefix("Heuristics.Limits.Exceeded.") },
                "\(findings)")
    }

    @Test("archive content beyond MaxScanSize is unchecked")
    func maxScanSize() throws {
        var files: [String: Data] = [:]
        for index in 0..<4 {
            files["part\(index).bin"] = Fixtures.pseudoRandomBytes(16 * 1024, seed: UInt64(index))
        }
        files["zz-last.bin"] = Fixtures.eicar
        let data = try Self.archive("zip", files)
        var limits = Limits()
        limits.clamMaxScanSize = 20 * 1024
        let findings = try Fixtures.engine(limits: limits).scan(data, part: .message)
        #expect(findings.stage(.unchecked).contains { $0.rule.hasPrefix("Heuristics.Limits.Exceeded.") },
                "\(findings)")
    }

    @Test("archives nested deeper than MaxRecursion are unchecked")
    func maxRecursion() throws {
        var data = Fixtures.eicar
        for level in 0..<4 {
            data = try Self.archive("zip", ["level\(level).zip": data])
        }
        var limits = Limits()
        limits.clamMaxRecursion = 2
        let findings = try Fixtures.engine(limits: limits).scan(data, part: .message)
        #expect(findings.stage(.unchecked).contains { $0.rule == "Heuristics.Limits.Exceeded.MaxRecursion" },
                "\(findings)")
        // With the default depth the same archive is opened all the way down.
        #expect(!(try Fixtures.engine().scan(data, part: .message).stage(.virus).isEmpty))
    }

    @Test("an archive with more files than MaxFiles is unchecked")
    func maxFiles() throws {
        var files: [String: Data] = [:]
        for index in 0..<6 { files["f\(index).txt"] = Data("file \(index)\n".utf8) }
        files["zz-eicar.com"] = Fixtures.eicar
        var limits = Limits()
        limits.clamMaxFiles = 3
        let findings = try Fixtures.engine(limits: limits).scan(try Self.archive("zip", files), part: .message)
        #expect(findings.stage(.unchecked).contains { $0.rule == "Heuristics.Limits.Exceeded.MaxFiles" },
                "\(findings)")
    }

    @Test("a part that takes longer than MaxScanTime is unchecked")
    func maxScanTime() throws {
        var limits = Limits()
        limits.clamMaxScanTimeMilliseconds = 1
        // 16 MB cannot even be hashed in 1 ms.
        let findings = try Fixtures.engine(limits: limits).scan(Data(repeating: 0x41, count: 16 << 20), part: .message)
        #expect(findings.stage(.unchecked).contains {
            $0.rule == "Heuristics.Limits.Exceeded.MaxScanTime" || $0.rule == "clamav.timeout"
        }, "\(findings)")
        #expect(findings.allSatisfy { $0.action == .quarantine })
    }

    @Test("a password-protected zip (made with `zip -P`) is unchecked")
    func encryptedZip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("harmless text that nobody can read without the password\n".utf8)
            .write(to: directory.appendingPathComponent("secret.txt"))
        try Fixtures.run("zip", ["-q", "-P", "secret", "locked.zip", "secret.txt"], in: directory)
        let data = try Data(contentsOf: directory.appendingPathComponent("locked.zip"))
        let findings = try Fixtures.engine().scan(data, part: .message.mime([2]), filename: "locked.zip")
        let unchecked = findings.stage(.unchecked)
        #expect(unchecked.contains { $0.rule == "Heuristics.Encrypted.Zip" }, "\(findings)")
        #expect(unchecked.allSatisfy { $0.detail.contains("encrypted") && $0.action == .quarantine })
        #expect(findings.stage(.virus).isEmpty)
    }
}
