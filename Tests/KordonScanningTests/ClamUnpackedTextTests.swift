import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// Text files libclamav unpacks from archives reach the restricted-data stage.
@Suite("Unpacked text files are collected", .timeLimit(.minutes(10)))
struct ClamUnpackedTextTests {
    /// A zip built by Python's zipfile: `note.txt`, `goods.csv`, `inner.zip` holding
    /// `inner.txt`, and `scan.bin` (binary), plus whatever `extra` adds (name → Python bytes literal).
    private static func customsZip(extra: [String: String] = [:]) throws -> Data {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let extras = extra.sorted { $0.key < $1.key }.map { "    z.writestr('\($0.key)', \($0.value))\n" }.joined()
        let script = """
            import io, zipfile
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('inner.txt', 'inner text: IIN 791028302728\\n')
            with zipfile.ZipFile('out', 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('note.txt', 'Note: IIN 061211600012\\r\\n')
                z.writestr('goods.csv', 'id;bin\\r\\n1;940140000385\\r\\n')
                z.writestr('inner.zip', inner.getvalue())
                z.writestr('scan.bin', bytes(range(256)) * 64)

            """ + extras
        try Fixtures.run("python3", ["-c", script], in: directory)
        return try Data(contentsOf: directory.appendingPathComponent("out"))
    }

    private func texts(_ result: ClamScanResult) -> [String: String] {
        Dictionary(uniqueKeysWithValues: result.unpackedTexts.map { ($0.name ?? "?", String(decoding: $0.text, as: UTF8.self)) })
    }

    @Test("the texts of a zip, a nested zip included, are collected with their paths; binaries are not")
    func zipTextsAreCollected() throws {
        let engine = try Fixtures.engine()
        let result = engine.scanCollectingText(try Self.customsZip(), part: .message.mime([2]), filename: "docs.zip")
        #expect(result.findings.isEmpty)
        #expect(texts(result) == [
            "note.txt": "Note: IIN 061211600012\r\n",
            "goods.csv": "id;bin\r\n1;940140000385\r\n",
            "inner.txt": "inner text: IIN 791028302728\n",
        ])
        for text in result.unpackedTexts {
            #expect(text.path.components.count == 3)
            #expect(text.path.description.hasPrefix("mime/2/unpacked:"))
            #expect(text.clamType == "CL_TYPE_TEXT_ASCII")
        }
        // Numbered among all unpacked files, in libclamav's order: the binary takes a number too.
        #expect(result.unpackedTexts.map(\.path.description) == ["mime/2/unpacked:1", "mime/2/unpacked:2", "mime/2/unpacked:4"])
        #expect(!result.unpackedTexts.contains { String(decoding: $0.text, as: UTF8.self).contains("\u{FFFD}") })
    }

    @Test("a zip scanned before, and cached as clean by libclamav, is still unpacked for its text")
    func cleanCacheDoesNotHideText() throws {
        // A fresh engine, so that the first scan below is the one that fills its cache.
        let engine = try Fixtures.engine(limits: Limits())
        let zip = try Self.customsZip(extra: ["cache.txt": "b'cache run \\x01'"])
        #expect(engine.scan(zip, part: .message).isEmpty)
        #expect(engine.scan(zip, part: .message).isEmpty)
        for _ in 0..<2 {
            let result = engine.scanCollectingText(zip, part: .message)
            #expect(result.findings.isEmpty)
            #expect(result.unpackedTexts.count == 4, "\(result.unpackedTexts.map { $0.name ?? "?" })")
        }
        #expect(engine.scan(zip, part: .message).isEmpty)
    }

    @Test("UTF-16 text is converted to UTF-8, other 8-bit text is read as windows-1251")
    func encodingsAreConverted() throws {
        let engine = try Fixtures.engine()
        let zip = try Self.customsZip(extra: [
            "utf16.txt": "'Секретно: ИИН 061211600012'.encode('utf-16')",
            "utf16be.txt": "'\\ufeffСправка 061211600012'.encode('utf-16-be')",
            "cp1251.txt": "'Для служебного пользования\\r\\n'.encode('cp1251')",
            "utf8.txt": "'Құпия құжат\\n'.encode('utf-8')",
        ])
        let collected = texts(engine.scanCollectingText(zip, part: .message))
        #expect(collected["utf16.txt"] == "Секретно: ИИН 061211600012")
        #expect(collected["utf16be.txt"] == "Справка 061211600012")
        #expect(collected["cp1251.txt"] == "Для служебного пользования\r\n")
        #expect(collected["utf8.txt"] == "Құпия құжат\n")
    }

    @Test("the scanned part itself and identical copies are not listed")
    func onlyUnpackedFilesOnce() throws {
        let engine = try Fixtures.engine()
        #expect(engine.scanCollectingText(Data("IIN 061211600012\n".utf8), part: .message).unpackedTexts.isEmpty)
        let zip = try Self.customsZip(extra: ["copy-of-note.txt": "'Note: IIN 061211600012\\r\\n'"])
        let notes = engine.scanCollectingText(zip, part: .message).unpackedTexts.filter {
            String(decoding: $0.text, as: UTF8.self) == "Note: IIN 061211600012\r\n"
        }
        #expect(notes.count == 1)
    }

    @Test("past the text budget the part is unchecked, and what fit is still returned")
    func budgetExceededFailsClosed() throws {
        let engine = try Fixtures.engine()
        let zip = try Self.customsZip()
        let result = engine.scan(zip, part: .message.mime([4]), filename: nil, collectingText: 30)
        #expect(result.unpackedTexts.map(\.name) == ["note.txt"])
        let unchecked = result.findings.stage(.unchecked)
        #expect(unchecked.map(\.rule) == ["Kordon.Limits.Exceeded.UnpackedText"])
        #expect(unchecked.allSatisfy { $0.action == .quarantine && $0.part == "mime/4" && $0.detail.contains("unpacked text") })
        #expect(!result.findings.contains { $0.stage == .virus })
    }

    @Test("a virus in a collecting scan is found as in a plain one, and plain scans return no text")
    func scanningIsUnchanged() throws {
        let engine = try Fixtures.engine()
        let zip = try Self.customsZip(extra: ["eicar.com": "b'" + String(decoding: Fixtures.eicar, as: UTF8.self) + "'"])
        let plain = engine.scan(zip, part: .message.mime([1]))
        let collecting = engine.scanCollectingText(zip, part: .message.mime([1]))
        #expect(!plain.stage(.virus).isEmpty)
        #expect(collecting.findings == plain)
        #expect(texts(collecting)["note.txt"] == "Note: IIN 061211600012\r\n")
        let clean = try Self.customsZip()
        #expect(engine.scan(clean, part: .message) == engine.scanCollectingText(clean, part: .message).findings)
    }

    @Test("collecting scans run concurrently on one engine")
    func concurrentCollectingScans() async throws {
        let engine = try Fixtures.engine()
        let zip = try Self.customsZip()
        let counts = await withTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                group.addTask { engine.scanCollectingText(zip, part: .message.mime([index])).unpackedTexts.count }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 3, count: 8))
    }
}
