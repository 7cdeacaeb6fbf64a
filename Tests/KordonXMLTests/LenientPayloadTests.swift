import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// What a receiver's forgiving tools decode out of text, Kordon decodes too (issue 17):
/// base64 with strays, labels, joined blocks, the URL-safe alphabet, no padding; short
/// runs; hex; uuencode; in element text, attributes, namespace URIs, comments and PIs.
@Suite("Lenient payloads", .timeLimit(.minutes(10)))
struct LenientPayloadTests {
    /// 68 bytes that stand for a small file (EICAR's length; not EICAR, so no scanner minds this source).
    static let file = Data((0..<68).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
    static let encoded = file.base64EncodedString()

    static func decoded(_ text: String) -> [Data] {
        EncodedText.decode(Data(text.utf8)).map(\.data)
    }

    /// Whether some decoded payload of `text` holds `file` whole.
    static func recovers(_ text: String) -> Bool {
        decoded(text).contains { $0.range(of: file) != nil }
    }

    /// `encoded` with `insert` put in after its 40th character.
    static func inserting(_ insert: String) -> String {
        String(encoded.prefix(40)) + insert + String(encoded.dropFirst(40))
    }

    /// `text` cut into pieces of `width` characters.
    static func pieces(_ text: String, _ width: Int) -> [String] {
        stride(from: 0, to: text.count, by: width).map { String(text.dropFirst($0).prefix(width)) }
    }

    /// Each mutation a forgiving decoder undoes, by name.
    static let mutated: [(String, String)] = [
        ("a `!` inside", inserting("!")),
        ("a `-` inside", inserting("-")),
        ("a non-breaking space inside", inserting("\u{A0}")),
        ("a data: URL", "data:application/octet-stream;base64," + encoded),
        ("a base64: label", "base64:" + encoded),
        ("a label and a space", "payload: " + encoded),
        ("trailing junk", encoded + "!!junk##"),
        ("two padded blocks joined", file.prefix(34).base64EncodedString() + file.dropFirst(34).base64EncodedString()),
        ("the URL-safe alphabet", encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")),
        ("no padding", encoded.replacingOccurrences(of: "=", with: "")),
        ("a space every four characters", pieces(encoded, 4).joined(separator: " ")),
        ("wrapped and indented", pieces(encoded, 20).map { "        " + $0 }.joined(separator: "\n")),
    ]

    @Test("base64 with a stray character, a label, trailing junk, joined blocks, URL-safe, no padding: the file comes out",
          arguments: mutated)
    func mutations(_ name: String, _ text: String) {
        #expect(Self.recovers(text), "\(name)")
    }

    @Test("strictly valid base64 of 32+ characters is decoded as it is, shorter runs are not")
    func shortRuns() {
        #expect(EncodedText.decode(Data(Self.encoded.utf8)) == [DecodedText(encoding: .base64, data: Self.file, name: nil)])
        #expect(Self.decoded("SGVsbG8gd29ybGQ=").isEmpty)
        #expect(Self.decoded(Data(repeating: 7, count: 21).base64EncodedString()).isEmpty)  // 28 characters
        #expect(Self.decoded(Data(repeating: 7, count: 24).base64EncodedString()).count == 1)
    }

    @Test("prose, codes, names, numbers, UUIDs, short hex and URLs give nothing (or nothing that is text)", arguments: [
        String(repeating: "This is not base64! ", count: 20),
        "Аппаратура для приёма и передачи данных (маршрутизаторы), модель 4000",
        "Routers and switches for data transmission, model ABC-1234, serial numbers SN00012345 to SN00012399",
        "ab9bb2f6-535a-7e07-b6df-fce81c2d9d1f",
        "ab9bb2f6-535a-7e07-b6df-fce81c2d9d1f ab9bb2f6-535a-7e07-b6df-fce81c2d9d1f",
        "44d88612fea8a8f36de82e1278abb02f44d88612fea8a8f36de82e1278abb02f",
        "12345678901234567890123456789012345678901234567890",
        "urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0",
        "ООО «Омский Агроцентр», г. Омск, ул. Красный Путь, 30",
        "The quick brown fox jumps over the lazy dog.\nThe quick brown fox jumps over the lazy dog.\n",
    ])
    func cleanSiblings(_ text: String) {
        #expect(Self.decoded(text).isEmpty, "\(text)")
    }

    @Test("long hex (128+ digits) is decoded as hex, never as base64")
    func hex() {
        let hex = Self.file.map { String(format: "%02x", $0) }.joined()
        #expect(EncodedText.decode(Data(hex.utf8)) == [DecodedText(encoding: .hex, data: Self.file, name: nil)])
    }

    @Test("a base64 block pasted into prose is found line by line")
    func blockInProse() {
        let wrapped = stride(from: 0, to: Self.encoded.count, by: 76).map { String(Self.encoded.dropFirst($0).prefix(76)) }
        let text = "Dear colleagues,\n\nplease find the file below.\n\n" + wrapped.joined(separator: "\n") + "\n\nKind regards,\nthe broker\n"
        #expect(Self.decoded(text).contains(Self.file))
    }

    @Test("base64 in structured text: a JSON string, a CSV field, key=value", arguments: [
        #"{"name": "a.bin", "content": "\#(encoded)"}"#,
        "id;name;payload\n1;a.bin;\(encoded)\n2;b.bin;\n",
        "name=a.bin content=\(encoded) size=68",
        "<p>see <a href=\"data:application/octet-stream;base64,\(encoded)\">the file</a></p>",
    ])
    func structured(_ text: String) {
        #expect(Self.recovers(text), "\(text)")
    }

    @Test("a MIME type table, a file list and URLs by the hundred: complete, next to nothing decoded")
    func structuredClean() {
        let lines = (0..<400).map { i in
            ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\(i)\t\txlsx",
             "libs/outcome/doc/src/themes/boostdoc/styles/github\(i)/highlight.min.css",
             "https://www.debian.org/doc/packaging-manuals/copyright-format/\(i).0/"][i % 3]
        }
        let result = Array(lines.joined(separator: "\n").utf8).withUnsafeBufferPointer { EncodedText.decodeAll($0) }
        #expect(result.complete)
        // The whole text, read forgivingly both ways and after its first "label": no token, no line.
        #expect(result.found.count <= 4)
    }

    @Test("more payloads in one text than are taken out: not complete")
    func limit() {
        let tokens = (0..<(EncodedText.maxResults + 1)).map { (i: Int) -> String in
            var bytes: [UInt8] = [UInt8(i >> 8), UInt8(i & 0xFF)]
            for k in 0..<46 { bytes.append(UInt8(truncatingIfNeeded: k &* 31 &+ i &* 7)) }
            return Data(bytes).base64EncodedString()
        }
        let text = tokens.joined(separator: ", ")
        let result = Array(text.utf8).withUnsafeBufferPointer { EncodedText.decodeAll($0) }
        let count = result.found.count, complete = result.complete
        #expect(count == EncodedText.maxResults)
        #expect(!complete)
        let fewer = Array(tokens.prefix(10).joined(separator: ", ").utf8).withUnsafeBufferPointer { EncodedText.decodeAll($0) }
        #expect(fewer.complete)
        #expect(tokens.prefix(10).allSatisfy { token in fewer.found.contains { $0.data == Data(base64Encoded: token) } })
    }

    @Test("uuencoded and begin-base64 blocks come out with their names")
    func uuencode() throws {
        let uu = try #require(Self.python("""
            import binascii, sys
            data = bytes((i * 37 + 11) % 256 for i in range(68))
            lines = [binascii.b2a_uu(data[i:i + 45]).decode() for i in range(0, len(data), 45)]
            sys.stdout.write("Hello,\\n\\nbegin 644 file.bin\\n" + "".join(lines) + "`\\nend\\n\\nBye\\n")
            """))
        let found = EncodedText.decode(Data(uu.utf8))
        #expect(found == [DecodedText(encoding: .uuencode, data: Self.file, name: "file.bin")])

        let mime = "begin-base64 600 other.bin\n" + Self.encoded + "\n====\n"
        #expect(EncodedText.decode(Data(mime.utf8)).first == DecodedText(encoding: .base64Lenient, data: Self.file, name: "other.bin"))
    }

    @Test("the forgiving decoder: strays dropped, blocks at padding, missing padding, URL-safe")
    func decoder() {
        func lenient(_ text: String, urlSafe: Bool = false) -> Data {
            Array(text.utf8).withUnsafeBufferPointer { LenientBase64.decode($0, urlSafe: urlSafe) }
        }
        #expect(lenient("SGVs!bG8=") == Data("Hello".utf8))
        #expect(lenient("QQ==QkM=") == Data("ABC".utf8))
        #expect(lenient("QUJDRA") == Data("ABCD".utf8))
        #expect(lenient("QUJDRA==junk").prefix(4) == Data("ABCD".utf8))
        #expect(lenient("-_-_", urlSafe: true) == Data([0xFB, 0xFF, 0xBF]))
        #expect(lenient("-_-_") == Data())
        #expect(lenient("") == Data())
    }

    @Test("attribute values, namespace URIs, comments and processing instructions are decoded at their own paths")
    func markup() throws {
        let extra = """
          <!-- \(Self.encoded) -->
          <?note \(Self.encoded)?>
          <d:Remark xmlns:x="urn:\(Self.encoded)" note="\(Self.encoded)">short</d:Remark>
        """
        let document = TestSchemas.declaration(extra: extra) + "<!-- base64: \(Self.encoded) -->"
        let result = try TestSchemas.inspector().inspect(document)
        let paths = Set(result.payloads.filter { $0.data.range(of: Self.file) != nil }.map { $0.path.description })
        #expect(paths == [
            "xml:/GoodsDeclaration/comment()",
            "xml:/GoodsDeclaration/processing-instruction()",
            "xml:/GoodsDeclaration/Remark/@note",
            "xml:/GoodsDeclaration/Remark/@xmlns:x",
            "xml:/comment()",
        ])
    }

    @Test("a typed element that is not strict base64 is unchecked, and what forgiving decoders make of it is scanned too")
    func typedLenient() throws {
        let text = String(Self.encoded.prefix(40)) + "!" + String(Self.encoded.dropFirst(40))
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration(extra: "<d:Signature>\(text)</d:Signature>"))
        #expect(result.findings.contains { $0.rule == "xml.base64-undecodable" && $0.stage == .unchecked })
        #expect(result.payloads.contains { $0.path.description == "xml:/GoodsDeclaration/Signature" && $0.data == Self.file })
    }

    @Test("decoded text that was not strict base64 stays in the scan view; a short strict run too")
    func scanView() throws {
        let stray = String(repeating: Self.encoded, count: 4) + "!"
        let document = TestSchemas.declaration(extra: "<d:Remark>\(stray)</d:Remark><d:Remark>\(Self.encoded)</d:Remark>")
        let result = try TestSchemas.inspector().inspect(document)
        let view = try #require(String(data: result.scanView, encoding: .utf8))
        #expect(view.contains(stray))
        #expect(view.contains("<d:Remark>\(Self.encoded)</d:Remark>"))
        #expect(result.payloads.count == 2)
    }

    static func python(_ script: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
