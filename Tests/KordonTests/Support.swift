import Foundation
import KordonTestSupport
import KordonCore
import Testing

/// Where Debian's clamav-testfiles puts ClamAV's 44 harmless test files.
let clamTestFiles = URL(fileURLWithPath: "/usr/share/clamav-testfiles")

/// What one run of a command gave back.
struct CommandResult {
    var status: Int32
    var stdout: Data
    var stderr: String

    /// Standard output as text.
    var text: String { String(decoding: stdout, as: UTF8.self) }

    /// Every NDJSON line of standard output, decoded as a report.
    func reports() throws -> [Report] {
        try text.split(separator: "\n").map { try JSONDecoder().decode(Report.self, from: Data($0.utf8)) }
    }
}

/// Runs a program to completion. Output goes through files, so a chatty child
/// can never block on a full pipe.
func run(_ executable: URL, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> CommandResult {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err"), inp = scratch.appendingPathComponent("in")
    try (stdin ?? Data()).write(to: inp)
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = try FileHandle(forReadingFrom: inp)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: try Data(contentsOf: out),
                         stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// Runs `kordon` with arguments.
func kordon(_ arguments: [String], stdin: Data? = nil) throws -> CommandResult {
    try run(try kordonBinary(), arguments, stdin: stdin)
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory(_ name: String = "kordon-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs the corpus generator (`fixtures/make-corpus.py`, shared with the benchmarks), writing into `directory`.
func makeCorpus(in directory: URL, _ arguments: [String]) throws {
    let script = repositoryRoot.appendingPathComponent("fixtures/make-corpus.py").path
    let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, directory.path] + arguments)
    try #require(result.status == 0, "make-corpus.py failed: \(result.stderr)")
}
