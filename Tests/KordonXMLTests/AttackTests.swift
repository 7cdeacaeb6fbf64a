import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// Every attack is refused with an `xml` finding, quickly, and leaks nothing.
@Suite("XML attacks", .timeLimit(.minutes(10)))
struct AttackTests {
    /// Inspects `document` and checks the common expectations: one `xml` finding with
    /// `rule`, no document type or payloads, the input kept as the scan view, done fast.
    @discardableResult
    private func expectRefused(_ document: Data, rule: String, within bound: Duration = .seconds(1),
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLInspection {
        let start = ContinuousClock.now
        let result = try TestSchemas.inspector().inspect(document, at: .message)
        let elapsed = ContinuousClock.now - start
        #expect(result.rules == [rule], "\(result.findings)", sourceLocation: sourceLocation)
        #expect(result.findings.allSatisfy { $0.stage == .xml && $0.action == .quarantine }, sourceLocation: sourceLocation)
        #expect(result.payloads.isEmpty, sourceLocation: sourceLocation)
        #expect(result.scanView == document, sourceLocation: sourceLocation)
        #expect(elapsed < bound, "took \(elapsed)", sourceLocation: sourceLocation)
        let text = result.findings.map(\.detail).joined() + (String(data: result.scanView, encoding: .utf8) ?? "")
        #expect(!text.contains("root:"), sourceLocation: sourceLocation)
        return result
    }

    @discardableResult
    private func expectRefused(_ document: String, rule: String, within bound: Duration = .seconds(1),
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLInspection {
        try expectRefused(Data(document.utf8), rule: rule, within: bound, sourceLocation: sourceLocation)
    }

    @Test("billion laughs")
    func billionLaughs() throws {
        var dtd = #"<!ENTITY lol "lol">"#
        for level in 1...9 {
            dtd += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "\">"
        }
        try expectRefused("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\(dtd)]>\n<lolz>&lol9;</lolz>", rule: "xml.doctype")
    }

    @Test("external entity reading /etc/passwd")
    func externalEntity() throws {
        try expectRefused("""
            <?xml version="1.0"?>
            <!DOCTYPE d:GoodsDeclaration [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <d:GoodsDeclaration xmlns:d="urn:test:decl"><d:DeclarantDetails><d:Name>&xxe;</d:Name></d:DeclarantDetails></d:GoodsDeclaration>
            """, rule: "xml.doctype")
    }

    @Test("external DTD on a local port nobody listens on")
    func externalDTD() throws {
        try expectRefused(#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>"#, rule: "xml.doctype")
    }

    @Test("XInclude of /etc/passwd is refused, never processed")
    func xinclude() throws {
        let document = """
            <d:GoodsDeclaration xmlns:d="urn:test:decl" xmlns:xi="http://www.w3.org/2001/XInclude">
              <d:DeclarantDetails><d:Name><xi:include href="file:///etc/passwd" parse="text"/></d:Name></d:DeclarantDetails>
            </d:GoodsDeclaration>
            """
        let result = try TestSchemas.inspector().inspect(document)
        let finding = try #require(result.findings.first)
        #expect(finding.rule == "xml.xinclude" && finding.stage == .xml)
        #expect(finding.part == "xml:/GoodsDeclaration/DeclarantDetails/Name/include")
        let everything = result.findings.map(\.detail).joined() + String(decoding: result.scanView, as: UTF8.self)
            + result.payloads.map { String(decoding: $0.data, as: UTF8.self) }.joined()
        #expect(!everything.contains("root:"))
    }

    @Test("nesting 100,000 deep")
    func depth() throws {
        let document = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        try expectRefused(document, rule: "xml.depth")
    }

    @Test("200,000 attributes in one start tag, refused well under a second")
    func attributes() throws {
        var document = "<r"
        for i in 0..<200_000 { document += " a\(i)=\"\(i)\"" }
        document += "/>"
        try expectRefused(document, rule: "xml.attributes", within: .seconds(1))
    }

    @Test("a 2 MB attribute value")
    func attributeSize() throws {
        try expectRefused("<r a=\"" + String(repeating: "x", count: 2 * 1024 * 1024) + "\"/>", rule: "xml.attribute-size")
    }

    @Test("a 2,000-byte element name")
    func nameLength() throws {
        let name = String(repeating: "n", count: 2000)
        try expectRefused("<\(name)></\(name)>", rule: "xml.name-length")
    }

    @Test("larger than the message limit")
    func size() throws {
        var limits = Limits()
        limits.maxMessageSize = 1000
        let document = Data(TestSchemas.declaration(extra: String(repeating: " ", count: 1000)).utf8)
        let result = try TestSchemas.inspector(limits).inspect(document, at: .message)
        #expect(result.rules == ["xml.size"])
    }

    @Test("a truncated document")
    func truncated() throws {
        let document = TestSchemas.declaration()
        let result = try expectRefused(String(document.prefix(document.count - 30)), rule: "xml.malformed")
        #expect(result.findings.first?.detail.contains("line") == true)
    }

    @Test("a document that breaks off into binary")
    func binary() throws {
        var document = Data(TestSchemas.declaration().prefix(120).utf8)
        document.append(TestSchemas.bytes(4096, seed: 99))
        try expectRefused(document, rule: "xml.malformed")
    }

    @Test("mismatched tags are reported by libxml2 with a line")
    func mismatched() throws {
        let result = try expectRefused("<a>\n<b>\n</a></b>", rule: "xml.malformed")
        #expect(result.findings.first?.detail.contains("line 3") == true, "\(result.findings)")
    }

    @Test("empty and whitespace-only input")
    func empty() throws {
        try expectRefused(Data(), rule: "xml.empty")
        try expectRefused(" \n\t ", rule: "xml.empty")
    }

    @Test("an encoding that hides markup from the byte scanner")
    func utf7() throws {
        try expectRefused(#"<?xml version="1.0" encoding="UTF-7"?><r>+ADw-!DOCTYPE</r>"#, rule: "xml.encoding")
    }

    @Test("not XML at all")
    func garbage() throws {
        try expectRefused(TestSchemas.bytes(1000, seed: 3), rule: "xml.malformed")
    }
}
