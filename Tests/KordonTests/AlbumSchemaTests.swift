import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// The whole FTS album configured with `--schemas`, as a customs gateway would: indexed at
/// start-up, each schema compiled when a document first needs it; two album versions at
/// once; the length facets libxml2 2.9.14 misreads.
@Suite("The FTS album of formats as agreed schemas", .timeLimit(.minutes(10)))
struct AlbumSchemaTests {
    @Test("with the whole album configured, an ESADout_CU document passes byte for byte")
    func wholeAlbum() throws {
        let album = try albumDirectory()
        // Minimal: the full document names declarants, which the packs sanitize.
        let document = try albumDocument("ESADout_CU", ["--seed", "3"])
        let result = try kordon(["filter", "--schemas", album.path, "-"], stdin: document)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == document)
    }

    @Test("two versions of the album at once: identical namespaces are registered once")
    func twoVersions() throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-albums")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // The "next" album: the same files, one of them with its documentation changed.
        let next = scratch.appendingPathComponent("fts-next")
        try FileManager.default.copyItem(at: album, to: next)
        let esadFile = next.appendingPathComponent("ESADout_CU.xsd")
        let esad = try String(contentsOf: esadFile, encoding: .utf8)
        try esad.replacingOccurrences(of: "Электронная копия декларации на товары", with: "Электронная копия ДТ")
            .write(to: esadFile, atomically: true, encoding: .utf8)
        let document = try albumDocument("ESADout_CU")
        let both = try kordon(["filter", "--schemas", album.path, "--schemas", next.path, "-"], stdin: document)
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout == document)

        // A genuinely different definition of the namespace is refused, naming both files.
        try esad.replacingOccurrences(of: "</xs:schema>", with: #"<xs:element name="Extra" type="xs:string"/></xs:schema>"#)
            .write(to: esadFile, atomically: true, encoding: .utf8)
        let different = try kordon(["filter", "--schemas", album.path, "--schemas", next.path, "-"], stdin: document)
        #expect(different.status == 2)
        #expect(different.stderr.contains("schema.duplicate-namespace") || different.stderr.contains("differently"), "\(different.stderr)")
        #expect(different.stderr.contains(album.appendingPathComponent("ESADout_CU.xsd").path))
        #expect(different.stderr.contains(esadFile.path))
    }

    @Test("ActInspPhoto: a 4 MB photo under maxLength 103809024 is clean, though libxml2 alone enforces 3,809,024")
    func largePhoto() throws {
        let album = try albumDirectory()
        let scratch = try temporaryDirectory("kordon-photo")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var generator = SystemRandomNumberGenerator()
        let photo = Data((0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        let photoFile = scratch.appendingPathComponent("photo.txt")
        try Data(photo.utf8).write(to: photoFile)
        // libxml2 (and so xmllint) refuses this document; the generator is told not to ask it.
        let document = try albumDocument("ActInspPhoto", ["--set", "Image=@\(photoFile.path)"], check: false)
        let documentFile = scratch.appendingPathComponent("photo.xml")
        try document.write(to: documentFile)
        let result = try kordon(["scan", "--format", "ndjson", "--schemas", album.path, documentFile.path])
        let report = try #require(try result.reports().first)
        #expect(report.verdict == .clean, "\(report.findings.map(\.detail))")
    }
}
