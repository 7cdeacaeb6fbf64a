import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Encodings, the guard, concurrency", .timeLimit(.minutes(10)))
struct EncodingAndConcurrencyTests {
    private static let cyrillic = "Торговый дом «Восток»"

    private func utf16(_ text: String, littleEndian: Bool) -> Data {
        var data = Data(littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF])
        for unit in text.utf16 {
            let bytes = littleEndian ? [UInt8(unit & 0xFF), UInt8(unit >> 8)] : [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            data.append(contentsOf: bytes)
        }
        return data
    }

    @Test("UTF-16 with a byte order mark, both byte orders, validates clean", arguments: [true, false])
    func utf16Document(littleEndian: Bool) throws {
        let payload = TestSchemas.bytes(600, seed: 11)
        let text = TestSchemas.declaration(extra: "<d:Signature>\(payload.base64EncodedString())</d:Signature>",
                                           prolog: #"<?xml version="1.0" encoding="UTF-16"?>"#)
            .replacingOccurrences(of: "Trading House", with: Self.cyrillic)
        let result = try TestSchemas.inspector().inspect(utf16(text, littleEndian: littleEndian), at: .message)
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.documentType == "{urn:test:decl}GoodsDeclaration")
        #expect(result.payloads.first?.data == payload)
        // The scan view is the UTF-8 copy, with the payload cut out.
        let view = try #require(String(data: result.scanView, encoding: .utf8))
        #expect(view.contains(Self.cyrillic))
        #expect(!view.contains(payload.base64EncodedString()))
    }

    @Test("UTF-16 without a byte order mark is recognised by its first character")
    func utf16WithoutBOM() throws {
        let text = TestSchemas.declaration(prolog: #"<?xml version="1.0" encoding="UTF-16LE"?>"#)
        let result = try TestSchemas.inspector().inspect(utf16(text, littleEndian: true).dropFirst(2), at: .message)
        #expect(result.findings.isEmpty, "\(result.findings)")
    }

    @Test("windows-1251 with Cyrillic text validates clean (libxml2 decodes it)")
    func windows1251() throws {
        let text = TestSchemas.declaration(prolog: #"<?xml version="1.0" encoding="windows-1251"?>"#)
            .replacingOccurrences(of: "Trading House", with: Self.cyrillic)
        let data = try #require(text.data(using: .windowsCP1251))
        #expect(data.count == text.unicodeScalars.count)  // one byte per character: really windows-1251
        let result = try TestSchemas.inspector().inspect(data, at: .message)
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.documentType == "{urn:test:decl}GoodsDeclaration")
    }

    @Test("windows-1251 bytes that break the schema are still reported at the right element")
    func windows1251Invalid() throws {
        let text = TestSchemas.declaration(taxpayerId: "Восток", prolog: #"<?xml version="1.0" encoding="windows-1251"?>"#)
        let data = try #require(text.data(using: .windowsCP1251))
        let result = try TestSchemas.inspector().inspect(data, at: .message)
        #expect(result.rules == ["schema.invalid"])
        #expect(result.findings.first?.part == "xml:/GoodsDeclaration/DeclarantDetails/TaxpayerId")
    }

    @Test("the guard reads comments, CDATA, processing instructions and quoted values as such")
    func guardSyntax() throws {
        let document = """
            <?xml version="1.0"?><?pi <not a tag> ?>
            <!-- <!DOCTYPE x> <a b="c"> -->
            <r a='>' b="x/>y" ><![CDATA[<!DOCTYPE> <<<]]><e/></r>
            """
        var limits = Limits()
        limits.maxXMLDepth = 1  // <r> is depth 1; <e/> is empty, so never deeper
        limits.maxXMLAttributes = 2
        let outcome = XMLGuard(limits: limits).scan(Data(document.utf8))
        #expect(outcome.isSuccess)
        let result = XMLInspector(schemas: try TestSchemas.shared.get(), limits: limits).inspect(document)
        #expect(result.rules == ["schema.unknown-namespace"])
    }

    @Test("the guard records long base64 runs in text and CDATA, nothing else")
    func guardRuns() throws {
        let long = String(repeating: "QUJD", count: 100)
        let document = "<r><a>\(long)</a><b>\(long)!</b><c><![CDATA[\(long)]]></c><d>QUJD</d></r>"
        let runs = try XMLGuard(limits: Limits()).scan(Data(document.utf8)).get()
        let texts = runs.map { String(decoding: Data(document.utf8)[$0], as: UTF8.self) }
        #expect(texts == [long, long])
    }

    @Test("eight tasks inspecting at once with one registry get the same results")
    func concurrent() async throws {
        let inspector = try TestSchemas.inspector()
        let payload = TestSchemas.bytes(20_000, seed: 12)
        let documents = [
            Data(TestSchemas.declaration(extra: "<d:Signature>\(TestSchemas.wrapped(payload))</d:Signature>").utf8),
            Data(TestSchemas.declaration(taxpayerId: "bad").utf8),
            Data("<r><a></r>".utf8),
            Data(#"<!DOCTYPE r [<!ENTITY e "e">]><r/>"#.utf8),
        ]
        let expected = documents.map { inspector.inspect($0, at: .message) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<20 {
                        let index = (task + round) % documents.count
                        let result = inspector.inspect(documents[index], at: .message)
                        let same = result.findings == expected[index].findings
                            && result.payloads.map(\.data) == expected[index].payloads.map(\.data)
                            && result.scanView == expected[index].scanView
                        if !same { return false }
                    }
                    return true
                }
            }
            for try await same in group { #expect(same) }
        }
        #expect(expected[0].findings.isEmpty && expected[0].payloads.count == 1)
        #expect(expected[1].rules == ["schema.invalid"])
        #expect(expected[2].rules == ["xml.malformed"])
        #expect(expected[3].rules == ["xml.doctype"])
    }
}
