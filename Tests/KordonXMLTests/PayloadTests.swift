import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Base64 payloads", .timeLimit(.minutes(10)))
struct PayloadTests {
    @Test("typed base64 elements are decoded at their paths: direct, derived by restriction, simple content")
    func typed() throws {
        let signature = TestSchemas.bytes(100, seed: 1)
        let scan = TestSchemas.bytes(200, seed: 2)
        let first = TestSchemas.bytes(3000, seed: 3)
        let second = TestSchemas.bytes(10, seed: 4)
        let extra = """

          <d:Signature>\(signature.base64EncodedString())</d:Signature>
          <d:Scan>\(TestSchemas.wrapped(scan))</d:Scan>
          <d:AttachedDocument><d:Title>Invoice</d:Title>
            <d:Content mediaType="application/pdf">\(TestSchemas.wrapped(first))</d:Content></d:AttachedDocument>
          <d:AttachedDocument><d:Title>Note</d:Title><d:Content><![CDATA[\(second.base64EncodedString())]]></d:Content></d:AttachedDocument>
        """
        let result = try TestSchemas.inspector().inspect(Data(TestSchemas.declaration(extra: extra).utf8), at: PartPath.message.mime([2]))
        #expect(result.findings.isEmpty, "\(result.findings)")
        let byPath = Dictionary(uniqueKeysWithValues: result.payloads.map { ($0.path.description, $0.data) })
        #expect(byPath == [
            "mime/2/xml:/GoodsDeclaration/Signature": signature,
            "mime/2/xml:/GoodsDeclaration/Scan": scan,
            "mime/2/xml:/GoodsDeclaration/AttachedDocument[1]/Content": first,
            "mime/2/xml:/GoodsDeclaration/AttachedDocument[2]/Content": second,
        ])
    }

    @Test("untyped text of 256+ base64 characters is a payload; short text is not")
    func fallback() throws {
        let long = TestSchemas.bytes(225, seed: 5)  // 300 base64 characters
        let extra = """

          <d:Remark>\(long.base64EncodedString())</d:Remark>
          <d:Remark>SGVsbG8gd29ybGQ=</d:Remark>
          <d:Remark>\(String(repeating: "This is not base64! ", count: 20))</d:Remark>
        """
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration(extra: extra))
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.payloads.count == 1)
        #expect(result.payloads.first?.path.description == "xml:/GoodsDeclaration/Remark[1]")
        #expect(result.payloads.first?.data == long)
    }

    @Test("a typed element that is not base64 cannot be scanned: unchecked")
    func undecodable() throws {
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration(extra: "<d:Signature>QUJD=RA==</d:Signature>"))
        let finding = try #require(result.findings.first { $0.rule == "xml.base64-undecodable" })
        #expect(finding.stage == .unchecked)
        #expect(finding.action == .quarantine)
        #expect(finding.part == "xml:/GoodsDeclaration/Signature")
        #expect(result.payloads.isEmpty)
    }

    @Test("the scan view lacks the decoded base64 text and keeps everything else")
    func scanView() throws {
        let payload = TestSchemas.bytes(5000, seed: 6)
        let encoded = TestSchemas.wrapped(payload)
        let untouched = String(repeating: "A", count: 300)  // base64-looking, but its run is not (the `-`)
        let extra = "\n  <d:Signature>\(encoded)</d:Signature>\n  <d:Remark>keep-\(untouched)</d:Remark>"
        let document = TestSchemas.declaration(extra: extra)
        let result = try TestSchemas.inspector().inspect(document)
        #expect(result.findings.isEmpty, "\(result.findings)")
        let view = try #require(String(data: result.scanView, encoding: .utf8))
        #expect(!view.contains(String(encoded.prefix(76))))
        #expect(view.contains("<d:Signature></d:Signature>"))
        #expect(view.contains("keep-\(untouched)"))
        #expect(view.count == document.count - encoded.count)
    }

    @Test("a 20 MB base64 text node is decoded (XML_PARSE_HUGE) with no finding")
    func huge() throws {
        let payload = TestSchemas.bytes(15 * 1024 * 1024, seed: 7)
        let document = TestSchemas.declaration(extra: "<d:Scan>\(TestSchemas.wrapped(payload))</d:Scan>")
        #expect(document.utf8.count > 20_000_000)
        let start = ContinuousClock.now
        let result = try TestSchemas.inspector().inspect(document)
        let elapsed = ContinuousClock.now - start
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.payloads.count == 1)
        #expect(result.payloads.first?.data == payload)
        #expect(result.scanView.count < 1000)
        #expect(elapsed < .seconds(30))
    }

    @Test("xop:Include takes its bytes from the attachment, and the document validates")
    func xop() throws {
        let attachment = TestSchemas.bytes(4096, seed: 8)
        let extra = """

          <d:AttachedDocument><d:Title>Scan</d:Title>
            <d:Content><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:scan%401.example"/></d:Content>
          </d:AttachedDocument>
        """
        let inspector = try TestSchemas.inspector()
        let result = inspector.inspect(TestSchemas.declaration(extra: extra), attachments: ["scan@1.example": attachment])
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.usedAttachments == ["scan@1.example"])
        #expect(result.payloads.map(\.path.description) == ["xml:/GoodsDeclaration/AttachedDocument/Content"])
        #expect(result.payloads.first?.data == attachment)

        let missing = inspector.inspect(TestSchemas.declaration(extra: extra))
        #expect(missing.rules.contains("xml.xop-missing"))
        #expect(missing.findings.first { $0.rule == "xml.xop-missing" }?.stage == .xml)
    }

    @Test("the strict decoder accepts wrapped base64 and rejects anything else")
    func decoder() {
        #expect(Base64.decode(Array("SGVs\r\nbG8=".utf8)) == Data("Hello".utf8))
        #expect(Base64.decode(Array("QQ==".utf8)) == Data("A".utf8))
        #expect(Base64.decode(Array("".utf8)) == Data())
        for bad in ["QQ=", "QQ===", "Q===", "QUJD=RA==", "QUJ", "QU*D", "QQ==QQ==", "=QUJ"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("inspecting a document with a 64 KB attachment: average time")
    func timing() throws {
        let payload = TestSchemas.bytes(64 * 1024, seed: 9)
        let document = Data(TestSchemas.declaration(extra: "<d:Signature>\(TestSchemas.wrapped(payload))</d:Signature>").utf8)
        let inspector = try TestSchemas.inspector()
        let rounds = 50
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            let result = inspector.inspect(document, at: .message)
            #expect(result.payloads.count == 1 && result.findings.isEmpty)
        }
        let average = (ContinuousClock.now - start) / rounds
        print("KordonXML timing: 64 KB base64 attachment, average inspect() = \(average)")
        #expect(average < .seconds(1))
    }
}
