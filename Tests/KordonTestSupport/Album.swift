import Foundation
import Testing

/// The FTS album of formats (5.23.0, 723 XSDs with the EEC's schemas inside), read from
/// `../shared/formats/fts-5.23.0` beside the repository; never copied into it. A test
/// that needs it fails, not skips, when it is missing: CI has it.
public func albumDirectory() throws -> URL {
    let album = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/formats/fts-5.23.0")
    var isDirectory: ObjCBool = false
    try #require(FileManager.default.fileExists(atPath: album.path, isDirectory: &isDirectory) && isDirectory.boolValue,
                 "the FTS album is expected at \(album.path)")
    return album
}

/// Writes an instance document of the album with `fixtures/album/make-album-documents.py`
/// (which asks xmllint to agree) and returns its bytes; `arguments` follow the root name.
public func albumDocument(_ root: String, _ arguments: [String] = [], check: Bool = true) throws -> Data {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-album-\(UUID().uuidString).xml")
    defer { try? FileManager.default.removeItem(at: output) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", repositoryRoot.appendingPathComponent("fixtures/album/make-album-documents.py").path,
                         "--album", try albumDirectory().path, root] + arguments + (check ? ["--check"] : []) + ["-o", output.path]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "make-album-documents.py \(root) \(arguments) failed")
    return try Data(contentsOf: output)
}
