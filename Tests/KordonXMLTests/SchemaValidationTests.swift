import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Schema registry and validation", .timeLimit(.minutes(10)))
struct SchemaValidationTests {
    @Test("registers roots by namespace; includes are not roots; base64 elements are indexed")
    func registry() throws {
        let registry = try TestSchemas.shared.get()
        #expect(registry.namespaces == [TestSchemas.common, TestSchemas.decl])
        #expect(registry.hasSchema(for: TestSchemas.decl))
        #expect(!registry.hasSchema(for: "urn:other"))
        #expect(registry.schemaFile(for: TestSchemas.decl)?.lastPathComponent == "decl.xsd")
        #expect(registry.base64ElementNames(for: [TestSchemas.decl]) == [
            "{urn:test:decl}Content", "{urn:test:decl}Scan", "{urn:test:decl}Signature",
        ])
    }

    @Test("a valid document has no findings and its document type")
    func valid() throws {
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration())
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.documentType == "{urn:test:decl}GoodsDeclaration")
        #expect(result.payloads.isEmpty)
        #expect(result.scanView == Data(TestSchemas.declaration().utf8))
    }

    @Test("xsi:schemaLocation is ignored: the schema is chosen by namespace, nothing is fetched")
    func schemaLocationIgnored() throws {
        let document = TestSchemas.declaration().replacingOccurrences(
            of: #"xmlns:d="urn:test:decl""#,
            with: #"xmlns:d="urn:test:decl" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:test:decl http://127.0.0.1:9/evil.xsd""#)
        let start = ContinuousClock.now
        let result = try TestSchemas.inspector().inspect(document)
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("an invalid value is reported at its element path and line, without the value")
    func invalid() throws {
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration(taxpayerId: "SECRET12345X"))
        let finding = try #require(result.findings.first)
        #expect(result.rules == ["schema.invalid"])
        #expect(finding.stage == .schema)
        #expect(finding.action == .quarantine)
        #expect(finding.part == "xml:/GoodsDeclaration/DeclarantDetails/TaxpayerId")
        #expect(finding.detail.hasPrefix("line 5: "))
        #expect(finding.detail.contains("TaxpayerId"))
        #expect(!finding.detail.contains("SECRET12345X"), "\(finding.detail)")
    }

    @Test("an unexpected element is named; at most five errors are listed")
    func manyErrors() throws {
        let extra = String(repeating: "\n<d:Bogus/>", count: 8)
        let result = try TestSchemas.inspector().inspect(TestSchemas.declaration(extra: extra))
        #expect(result.rules.allSatisfy { $0 == "schema.invalid" })
        #expect((1...5).contains(result.findings.count))
        #expect(result.findings[0].detail.contains("Bogus"))
    }

    @Test("a root in an unknown namespace, or in none, has no agreed schema")
    func unknownNamespace() throws {
        let inspector = try TestSchemas.inspector()
        let other = inspector.inspect(#"<x:Doc xmlns:x="urn:other"><x:A/></x:Doc>"#)
        #expect(other.rules == ["schema.unknown-namespace"])
        #expect(other.findings.first?.detail == "no agreed schema for urn:other")
        #expect(other.documentType == "{urn:other}Doc")
        let none = inspector.inspect("<Doc><A/></Doc>")
        #expect(none.findings.first?.detail == "no agreed schema for (no namespace)")
        #expect(none.documentType == "Doc")
    }

    @Test("a remote import is served by the local file of that name, never fetched")
    func remoteImportMapsToLocalFile() throws {
        // decl.xsd imports http://example.invalid/common.xsd; TaxpayerIdType comes from it.
        let bad = try TestSchemas.inspector().inspect(TestSchemas.declaration(taxpayerId: "12"))
        #expect(bad.rules == ["schema.invalid"])
        // A remote location with no local file of that name cannot load, so the schema fails.
        let folder = try TestSchemas.write(["a.xsd": """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:m="urn:missing" targetNamespace="urn:a">
              <xs:import namespace="urn:missing" schemaLocation="http://127.0.0.1:9/missing.xsd"/>
              <xs:element name="A" type="m:T"/>
            </xs:schema>
            """])
        let start = ContinuousClock.now
        let registry = try SchemaRegistry(directories: [folder])
        #expect(registry.compileProblems().map(\.code) == ["schema.compile"])
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test("two different definitions of one namespace are an error naming both files")
    func duplicateNamespace() throws {
        let one = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:dup"><xs:element name="A" type="xs:string"/></xs:schema>"#
        let two = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:dup"><xs:element name="A" type="xs:int"/></xs:schema>"#
        let folder = try TestSchemas.write(["one.xsd": one, "sub/two.xsd": two])
        do {
            _ = try SchemaRegistry(directories: [folder])
            Issue.record("expected an error")
        } catch let error as KordonError {
            #expect(error.code == "schema.duplicate-namespace")
            #expect(error.message.contains("one.xsd") && error.message.contains("two.xsd"))
        }
    }

    @Test("one namespace defined by identical files in two folders (two album versions) is registered once")
    func identicalDefinitionsAccepted() throws {
        let schema = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:dup"><xs:element name="A" type="xs:string"/></xs:schema>"#
        let annotated = #"""
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:dup">
              <!-- the same definitions, documented -->
              <xs:annotation><xs:documentation>Элемент A</xs:documentation></xs:annotation>
              <xs:element name="A" type="xs:string">
                <xs:annotation><xs:documentation>Строка</xs:documentation></xs:annotation>
              </xs:element>
            </xs:schema>
            """#
        let first = try TestSchemas.write(["a.xsd": schema])
        let second = try TestSchemas.write(["a.xsd": schema])
        let third = try TestSchemas.write(["renamed.xsd": annotated])
        let registry = try SchemaRegistry(directories: [first, second, third])
        #expect(registry.namespaces == ["urn:dup"])
        let valid = try XMLInspector(schemas: registry, limits: Limits()).inspect(#"<A xmlns="urn:dup">x</A>"#)
        #expect(valid.findings.isEmpty, "\(valid.findings)")
    }

    @Test("schemas compile on first use, and a bounded number is kept: the least recently used goes first")
    func compiledOnFirstUseAndBounded() throws {
        let count = SchemaRegistry.maxCompiledSchemas + 2
        var files: [String: String] = [:]
        for n in 0..<count {
            files["f\(n).xsd"] = #"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:f\#(n)"><xs:element name="R" type="xs:int"/></xs:schema>"#
        }
        let registry = try SchemaRegistry(directories: [TestSchemas.write(files)])
        #expect(registry.namespaces.count == count)
        #expect(registry.compiledCount == 0)
        let inspector = XMLInspector(schemas: registry, limits: Limits())
        for n in 0..<count {
            #expect(inspector.inspect(#"<R xmlns="urn:f\#(n)">1</R>"#).findings.isEmpty)
            // urn:f0 stays in use: it is never the least recently used.
            #expect(inspector.inspect(#"<R xmlns="urn:f0">x</R>"#).rules == ["schema.invalid"])
        }
        #expect(registry.compiledCount == SchemaRegistry.maxCompiledSchemas)
        // An evicted schema (urn:f1 went first) compiles again when it comes back.
        #expect(inspector.inspect(#"<R xmlns="urn:f1">x</R>"#).rules == ["schema.invalid"])
        #expect(registry.compiledCount == SchemaRegistry.maxCompiledSchemas)
    }

    @Test("a schema that does not compile is an error naming the file and the reason, and holds its documents")
    func brokenSchema() throws {
        let folder = try TestSchemas.write(["broken.xsd": """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">
              <xs:element name="B" type="xs:noSuchType"/>
            </xs:schema>
            """])
        // Indexing reads heads only: the registry is built, and compiles on first use.
        let registry = try SchemaRegistry(directories: [folder])
        let problems = registry.compileProblems()
        #expect(problems.map(\.code) == ["schema.compile"])
        #expect(problems.first?.message.contains("broken.xsd") == true)
        #expect(problems.first?.message.contains("noSuchType") == true, "\(problems)")
        let result = XMLInspector(schemas: registry, limits: Limits()).inspect(#"<B xmlns="urn:b"/>"#)
        #expect(result.findings.map(\.rule) == ["schema.error"])
        #expect(result.findings.first?.stage == .error)
    }

    @Test("a schema file with a DOCTYPE is refused")
    func schemaWithDoctype() throws {
        let folder = try TestSchemas.write(["evil.xsd": """
            <!DOCTYPE xs:schema [<!ENTITY e SYSTEM "file:///etc/passwd">]>
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:e"/>
            """])
        #expect(throws: KordonError.self) { try SchemaRegistry(directories: [folder]) }
    }

    @Test("libxml2 messages lose quoted values but keep schema names")
    func redaction() {
        let message = "Element '{urn:x}Amount': 'secret' is not a valid value of the atomic type 'xs:decimal'.\n"
        #expect(LibXMLMessage.redactingValues(message)
            == "Element '{urn:x}Amount': '…' is not a valid value of the atomic type 'xs:decimal'.")
        let pattern = "Element 'Id': [facet 'pattern'] The value '4242' is not accepted by the pattern '[0-9]{12}'."
        #expect(LibXMLMessage.redactingValues(pattern)
            == "Element 'Id': [facet 'pattern'] The value '…' is not accepted by the pattern '[0-9]{12}'.")
    }
}
