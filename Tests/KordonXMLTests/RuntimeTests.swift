import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Runtime, loader and bounds", .timeLimit(.minutes(10)))
struct RuntimeTests {
    @Test("the entity loader opens local files only; remote names map through the catalog")
    func loader() throws {
        XMLRuntime.initialize()
        XMLRuntime.initialize()  // idempotent
        #expect(LocalEntityLoader.localPath(for: "http://127.0.0.1:9/x.dtd") == nil)
        #expect(LocalEntityLoader.localPath(for: "https://example.invalid/common.xsd") == nil)
        #expect(LocalEntityLoader.localPath(for: "ftp://example.invalid/common.xsd") == nil)
        #expect(LocalEntityLoader.localPath(for: "file://otherhost/etc/hostname") == nil)
        #expect(LocalEntityLoader.localPath(for: "file:///etc/hostname") == "/etc/hostname")
        #expect(LocalEntityLoader.localPath(for: "/etc/hostname") == "/etc/hostname")
        _ = LocalCatalog.with(["common.xsd": "/etc/hostname"]) {
            #expect(LocalEntityLoader.localPath(for: "https://example.invalid/v1/common.xsd") == "/etc/hostname")
            #expect(LocalEntityLoader.localPath(for: "https://example.invalid/v1/other.xsd") == nil)
        }
        #expect(LocalEntityLoader.localPath(for: "https://example.invalid/v1/common.xsd") == nil)
        // A local file is handed to libxml2 only when it passes the guard.
        let folder = try TestSchemas.write(["evil.xml": #"<!DOCTYPE r [<!ENTITY e SYSTEM "/etc/passwd">]><r>&e;</r>"#, "ok.xml": "<r/>"])
        #expect(LocalEntityLoader.safeContents(folder.appendingPathComponent("evil.xml").path) == nil)
        #expect(LocalEntityLoader.safeContents(folder.appendingPathComponent("ok.xml").path) != nil)
    }

    @Test("XInclude in the 2003 namespace is refused too")
    func xinclude2003() throws {
        let result = try TestSchemas.inspector().inspect(#"<r xmlns:xi="http://www.w3.org/2003/XInclude"><xi:include href="/etc/passwd"/></r>"#)
        #expect(result.rules.first == "xml.xinclude")
        #expect(result.findings.first?.part == "xml:/r/include")
    }

    @Test("payloads beyond the limit are reported unchecked, not silently dropped")
    func payloadLimit() throws {
        var limits = Limits()
        limits.maxMIMEParts = 2
        let remarks = (1...3).map { "<d:Remark>\(TestSchemas.bytes(300, seed: UInt64($0)).base64EncodedString())</d:Remark>" }
        let result = try TestSchemas.inspector(limits).inspect(TestSchemas.declaration(extra: remarks.joined()))
        #expect(result.payloads.count == 2)
        #expect(result.rules == ["xml.payload-limit"])
        #expect(result.findings.first?.stage == .unchecked)
        // The payload that was not handed out stays in the scan view.
        #expect(String(decoding: result.scanView, as: UTF8.self).contains(TestSchemas.bytes(300, seed: 3).base64EncodedString()))
    }

    @Test("a deep document within a raised limit is walked without recursion")
    func deepButAllowed() throws {
        var limits = Limits()
        limits.maxXMLDepth = 20_000
        let document = String(repeating: "<a>", count: 10_000) + "x" + String(repeating: "</a>", count: 10_000)
        let result = try TestSchemas.inspector(limits).inspect(document)
        #expect(result.rules == ["schema.unknown-namespace"])
    }

    @Test("an element named like a schema keyword does not unmask the value after it")
    func redactionAfterTrickyName() {
        #expect(LibXMLMessage.redactingValues("Element 'type': 'secret' is not a valid value of the atomic type 'xs:int'.")
            == "Element 'type': '…' is not a valid value of the atomic type 'xs:int'.")
        #expect(LibXMLMessage.parserMessage("Input is not proper UTF-8, indicate encoding !\nBytes: 0xC3 0x28 0x41 0x42\n")
            == "Input is not proper UTF-8, indicate encoding !")
    }
}
