import Foundation

// What the test targets that drive real files and the real `kordon` binary share:
// KordonTests (the pipeline and the CLI) and KordonServerTests (`kordon serve`).

/// The repository these tests live in: fixtures, schemas, signatures, rule packs.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The EICAR test file, assembled at run time so that no scanner flags these sources.
public let eicar = Data((["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS", "-TEST-FILE!$H+H*"]).joined().utf8)

/// ``eicar`` as bytes.
public var eicarBytes: [UInt8] { Array(eicar) }

/// Why a test could not find what it needs.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
}

/// The `kordon` binary SwiftPM built next to the test bundle (or in `.build/debug`).
public func kordonBinary() throws -> URL {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kordon")
    let candidates = [besideTests, repositoryRoot.appendingPathComponent(".build/debug/kordon")]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw TestSupportError(description: "the kordon executable was not built (looked at \(candidates.map(\.path)))")
    }
    return found
}
