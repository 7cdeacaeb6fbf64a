import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// A container format and a carried format, small enough to read in the test:
/// `urn:test:box` `Box/Item/Body` is `xs:any processContents="skip"` (a container slot
/// when configured), `Box/Strict` is `xs:any processContents="strict"` over the imported
/// note namespace, `Box/Extension` is `xs:any namespace="##other" processContents="lax"`;
/// `urn:test:note` `Note` has a QName-typed `Kind` and a base64Binary `Scan`.
enum ContainerSchemas {
    static let box = "urn:test:box"
    static let note = "urn:test:note"

    static let files: [String: String] = [
        "box.xsd": """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:box" elementFormDefault="qualified">
          <xs:import namespace="urn:test:note" schemaLocation="note.xsd"/>
          <xs:element name="Box">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="Item" maxOccurs="unbounded">
                  <xs:complexType><xs:sequence>
                    <xs:element name="Body"><xs:complexType><xs:sequence><xs:any processContents="skip"/></xs:sequence></xs:complexType></xs:element>
                  </xs:sequence></xs:complexType>
                </xs:element>
                <xs:element name="Strict" minOccurs="0">
                  <xs:complexType><xs:sequence><xs:any namespace="urn:test:note" processContents="strict"/></xs:sequence></xs:complexType>
                </xs:element>
                <xs:element name="Extension" minOccurs="0">
                  <xs:complexType><xs:sequence>
                    <xs:any namespace="##other" processContents="lax" maxOccurs="unbounded"/>
                  </xs:sequence></xs:complexType>
                </xs:element>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:schema>
        """,
        "note.xsd": """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:note" elementFormDefault="qualified">
          <xs:element name="Note">
            <xs:complexType><xs:sequence>
              <xs:element name="Kind" type="xs:QName"/>
              <xs:element name="Text" type="xs:string"/>
              <xs:element name="Scan" type="xs:base64Binary" minOccurs="0"/>
            </xs:sequence></xs:complexType>
          </xs:element>
        </xs:schema>
        """,
    ]

    static let shared: Result<SchemaRegistry, any Error> = Result {
        try SchemaRegistry(directories: [TestSchemas.write(files)])
    }

    /// `Box/Item/Body` counts as a container.
    static let formats: XMLFormats = {
        var formats = XMLFormats()
        formats.containers = [ContainerSlot("{urn:test:box}Body")!]
        return formats
    }()

    static func inspector(_ formats: XMLFormats = formats) throws -> XMLInspector {
        XMLInspector(schemas: try shared.get(), limits: Limits(), formats: formats)
    }

    /// A `Note` (its `Kind` names prefix `k`, which the box declares).
    static func note(text: String = "Arrived sealed", extra: String = "") -> String {
        "<n:Note xmlns:n=\"urn:test:note\"><n:Kind>k:Inspection</n:Kind><n:Text>\(text)</n:Text>\(extra)</n:Note>"
    }

    /// A `Box` with one `Item` for each carried document.
    static func box(_ documents: [String], strict: String = "", extension: String = "") -> String {
        let items = documents.map { "  <b:Item><b:Body>\($0)</b:Body></b:Item>" }.joined(separator: "\n")
        let tail = (strict.isEmpty ? "" : "\n  <b:Strict>\(strict)</b:Strict>")
            + (`extension`.isEmpty ? "" : "\n  <b:Extension>\(`extension`)</b:Extension>")
        return "<?xml version=\"1.0\"?>\n<b:Box xmlns:b=\"urn:test:box\" xmlns:k=\"urn:test:kinds\">\n\(items)\(tail)\n</b:Box>\n"
    }
}

@Suite("Documents carried in containers", .timeLimit(.minutes(10)))
struct ContainerDocumentTests {
    @Test("a slot is {namespace}LocalName; the namespace a URI or a pattern as in the packs (…:* any version)")
    func slotPatterns() throws {
        let slot = try #require(ContainerSlot("{urn:customs.ru:Information:ExchangeDocuments:ED_Container:*}DocBody"))
        #expect(slot.matches(namespace: "urn:customs.ru:Information:ExchangeDocuments:ED_Container:5.22.0"))
        #expect(slot.matches(namespace: "urn:customs.ru:Information:ExchangeDocuments:ED_Container:5.24.0"))
        #expect(!slot.matches(namespace: "urn:customs.ru:Information:ExchangeDocuments:ED_ContainerX"))
        #expect(!slot.matches(namespace: "urn:customs.ru:Information:ExchangeDocuments:FreeBinaryDoc:5.22.0"))
        let eec = try #require(ContainerSlot("{urn:EEC:M:ComplexDataObjects:v*}AnyDetails"))
        #expect(eec.matches(namespace: "urn:EEC:M:ComplexDataObjects:v0.4.14"))
        #expect(!eec.matches(namespace: "urn:EEC:M:SimpleDataObjects:v0.4.14"))
        let family = try #require(ContainerSlot("{urn:test:**}Body"))
        #expect(family.matches(namespace: "urn:test:box") && !family.matches(namespace: "urn:other:box"))
        let exact = try #require(ContainerSlot("{urn:test:box}Body"))
        #expect(exact.matches(namespace: "urn:test:box") && !exact.matches(namespace: "urn:test:box2"))
        #expect(ContainerSlot("{}Body")?.matches(namespace: "") == true)
        for bad in ["Body", "{urn:test:box}", "{urn:test:box}b:Body", "{urn:test:box}Bo*dy", "{urn:{x}Body", "urn:test:box}Body", "{urn}1Body",
                    "{urn:EEC:*:ComplexDataObjects:v*}AnyDetails", "{*}Body"] {
            #expect(ContainerSlot(bad) == nil, "\(bad)")
        }
        #expect(slot.description == "{urn:customs.ru:Information:ExchangeDocuments:ED_Container:*}DocBody")
    }

    @Test("a valid carried document passes; its QName value uses a prefix only the container declares")
    func validCarried() throws {
        let result = try ContainerSchemas.inspector().inspect(ContainerSchemas.box([ContainerSchemas.note()]))
        #expect(result.findings.isEmpty, "\(result.findings)")
    }

    @Test("an invalid carried document is schema.invalid at its path in the container, at the outer document's line")
    func invalidCarried() throws {
        let document = ContainerSchemas.box([ContainerSchemas.note(), ContainerSchemas.note(extra: "<n:Stamp>x</n:Stamp>")])
        let result = try ContainerSchemas.inspector().inspect(document)
        let finding = try #require(result.findings.first)
        #expect(result.rules == ["schema.invalid"])
        #expect(finding.part == "xml:/Box/Item[2]/Body/Note/Stamp")
        #expect(finding.detail.hasPrefix("line 4:"), "\(finding.detail)")
        #expect(finding.action == .quarantine)
        // The same container passes when nobody counts Body as a container: the skip slot hides it.
        #expect(try ContainerSchemas.inspector(XMLFormats.none).inspect(document).findings.isEmpty)
    }

    @Test("a sanitized container is checked inside again: revalidate finds an invalid carried document")
    func revalidation() throws {
        let inspector = try ContainerSchemas.inspector()
        let broken = ContainerSchemas.box([ContainerSchemas.note(), ContainerSchemas.note(extra: "<n:Stamp>x</n:Stamp>")])
        #expect(inspector.revalidate(Data(broken.utf8), at: .message).map(\.rule) == ["schema.invalid"])
        #expect(inspector.revalidate(Data(ContainerSchemas.box([ContainerSchemas.note()]).utf8), at: .message).isEmpty)
    }

    @Test("a strict slot listed as a container: the outer schema validates it already, each error is reported once")
    func strictSlot() throws {
        var formats = ContainerSchemas.formats
        formats.containers.append(ContainerSlot("{urn:test:box}Strict")!)
        let document = ContainerSchemas.box([ContainerSchemas.note()], strict: ContainerSchemas.note(extra: "<n:Stamp>x</n:Stamp>"))
        let result = try ContainerSchemas.inspector(formats).inspect(document)
        #expect(result.rules == ["schema.invalid"], "\(result.findings)")
        #expect(result.findings.first?.part == "xml:/Box/Strict/Note/Stamp")
    }

    @Test("a carried document of a namespace with no agreed schema is schema.unknown-namespace")
    func unknownCarried() throws {
        let document = ContainerSchemas.box([ContainerSchemas.note(), "<x:Thing xmlns:x=\"urn:example:unagreed\"><x:A/></x:Thing>"])
        let result = try ContainerSchemas.inspector().inspect(document)
        #expect(result.rules == ["schema.unknown-namespace"])
        #expect(result.findings.first?.part == "xml:/Box/Item[2]/Body/Thing")
    }

    @Test("the QName prefix must be in scope somewhere: undeclared, the carried document is invalid")
    func undeclaredPrefix() throws {
        let document = ContainerSchemas.box([ContainerSchemas.note()]).replacingOccurrences(of: " xmlns:k=\"urn:test:kinds\"", with: "")
        let result = try ContainerSchemas.inspector().inspect(document)
        // libxml2 reports the unresolved prefix and the value it makes invalid.
        #expect(!result.findings.isEmpty && result.findings.allSatisfy { $0.rule == "schema.invalid" && $0.part == "xml:/Box/Item/Body/Note/Kind" },
                "\(result.findings)")
    }

    @Test("containers nested in carried documents are validated inside, down to the depth limit")
    func nested() throws {
        func nest(_ depth: Int, _ inner: String) -> String {
            (0..<depth).reduce(inner) { carried, _ in
                "<b:Box xmlns:b=\"urn:test:box\"><b:Item><b:Body>\(carried)</b:Body></b:Item></b:Box>"
            }
        }
        let bad = ContainerSchemas.note(extra: "<n:Stamp>x</n:Stamp>").replacingOccurrences(of: "k:Inspection", with: "Inspection")
        let two = try ContainerSchemas.inspector().inspect(nest(2, bad))
        #expect(two.rules == ["schema.invalid"])
        #expect(two.findings.first?.part == "xml:/Box/Item/Body/Box/Item/Body/Note/Stamp")

        let limit = ContainerDocuments.maxDepth
        let deepest = try ContainerSchemas.inspector().inspect(nest(limit, bad))
        #expect(deepest.rules == ["schema.invalid"], "\(deepest.findings)")
        let tooDeep = try ContainerSchemas.inspector().inspect(nest(limit + 1, ContainerSchemas.note().replacingOccurrences(of: "k:Inspection", with: "Inspection")))
        #expect(tooDeep.rules == ["xml.container-depth"], "\(tooDeep.findings)")
        #expect(tooDeep.findings.first?.stage == .unchecked)
    }

    @Test("a typed base64 element of the carried document's schema is decoded at any length (the container's schema knows nothing of it)")
    func carriedPayload() throws {
        // 12 bytes, 16 characters: far below what the untyped fallback would decode.
        let payload = TestSchemas.bytes(12)
        let document = ContainerSchemas.box([ContainerSchemas.note(extra: "<n:Scan>\(payload.base64EncodedString())</n:Scan>")])
        let result = try ContainerSchemas.inspector().inspect(document)
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.payloads.map(\.path.description) == ["xml:/Box/Item/Body/Note/Scan"])
        #expect(result.payloads.first?.data == payload)
    }

    @Test("a large typed payload of a carried document is cut from the scan view, which ClamAV reads once")
    func carriedPayloadCut() throws {
        let payload = TestSchemas.bytes(6000)
        let document = ContainerSchemas.box([ContainerSchemas.note(extra: "<n:Scan>\(TestSchemas.wrapped(payload))</n:Scan>")])
        let result = try ContainerSchemas.inspector().inspect(document)
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.payloads.map(\.data) == [payload])
        #expect(result.scanView.count < Data(document.utf8).count - 7000)
    }

    @Test("an unknown-namespace element in an unlisted lax slot is reported, not held; listed, it is validated")
    func laxSlot() throws {
        let document = ContainerSchemas.box([ContainerSchemas.note()], extension: "<x:Tag xmlns:x=\"urn:example:unagreed\"><x:A>1</x:A></x:Tag>")
        let result = try ContainerSchemas.inspector().inspect(document)
        #expect(result.rules == ["schema.unvalidated-content"])
        #expect(result.findings.first?.action == .report)
        #expect(result.findings.first?.part == "xml:/Box/Extension/Tag")

        var listed = ContainerSchemas.formats
        listed.containers.append(ContainerSlot("{urn:test:box}Extension")!)
        let held = try ContainerSchemas.inspector(listed).inspect(document)
        #expect(held.rules == ["schema.unknown-namespace"])
        #expect(held.findings.first?.part == "xml:/Box/Extension/Tag")
    }
}

extension XMLFormats {
    /// No container slots at all.
    static var none: XMLFormats {
        var formats = XMLFormats()
        formats.containers = []
        return formats
    }
}
