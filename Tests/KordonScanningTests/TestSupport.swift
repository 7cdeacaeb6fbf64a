import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// Shared inputs for the ClamAV tests: the repository's signatures, one
/// engine loaded once, and the real test files Debian ships.
enum Fixtures {
    /// The repository root, two directories above this file.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Kordon's shipped signatures.
    static let signatures = root.appendingPathComponent("signatures")

    /// Debian's `clamav-testfiles`: harmless files ClamAV's own tests use.
    static let clamTestFiles = URL(fileURLWithPath: "/usr/share/clamav-testfiles")

    /// Their names, sorted; empty when the package is missing (a test then fails).
    static let clamTestFileNames: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: clamTestFiles.path)) ?? []).sorted()

    /// One engine with default limits, loaded once for the whole suite.
    private static let sharedEngine = Result { try ClamEngine.load(ClamEngineOptions(databases: [signatures])) }

    /// The shared engine; fails the calling test if it could not be loaded.
    static func engine() throws -> ClamEngine {
        try sharedEngine.get()
    }

    /// An engine with the given limits over Kordon's signatures.
    static func engine(limits: Limits) throws -> ClamEngine {
        try ClamEngine.load(ClamEngineOptions(databases: [signatures], limits: limits))
    }

    /// The EICAR test string, assembled here so this source file is not itself a detection.
    static let eicar: Data = {
        let parts = [#"X5O!P%@AP[4\PZX54(P^)7CC)7}$"#, "EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!$H+H*"]
        return Data(parts.joined().utf8)
    }()

    /// `count` bytes from a fixed-seed generator: the same "clean" input every run.
    static func pseudoRandomBytes(_ count: Int, seed: UInt64 = 0x5EED) -> Data {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes[index] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return Data(bytes)
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kordon-clam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a Python script that writes test inputs, and returns them by file name.
    ///
    /// The script runs in a fresh directory with `EICAR` (bytes) defined, the standard
    /// modules for archives and compression imported, and `out(name, data)` writing a file;
    /// `helpers` (Python definitions) go before `body`.
    static func pythonFiles(helpers: String = "", _ body: String) throws -> [String: Data] {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try eicar.write(to: directory.appendingPathComponent("eicar"))
        let script = """
            import io, os, struct, subprocess, zipfile, zlib, lzma, bz2
            EICAR = open('eicar', 'rb').read()
            def out(name, data): open(os.path.join('out', name), 'wb').write(data)
            os.mkdir('out')
            \(helpers)
            \(body)
            """
        try run("python3", ["-c", script], in: directory)
        let out = directory.appendingPathComponent("out")
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) {
            files[name] = try Data(contentsOf: out.appendingPathComponent(name))
        }
        return files
    }

    /// Runs a tool to completion and fails the test on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(executable) \(arguments) exited \(process.terminationStatus)")
    }
}

extension Array where Element == Finding {
    /// The findings of one stage.
    func stage(_ stage: Stage) -> [Finding] { filter { $0.stage == stage } }
}
