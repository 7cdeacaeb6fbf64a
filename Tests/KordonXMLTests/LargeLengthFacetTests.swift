import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// libxml2 2.9.14 keeps only the low eight digits of a length facet: Kordon takes such
/// facets out of libxml2's copy of the schema and enforces them itself.
@Suite("Length facets of 100,000,000 and more", .timeLimit(.minutes(10)))
struct LargeLengthFacetTests {
    static let schema = """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:big" xmlns="urn:big" elementFormDefault="qualified">
          <xs:simpleType name="Text99MB">
            <xs:restriction base="xs:string">
              <xs:minLength value="1"/>
              <xs:maxLength value="103809024"/>
            </xs:restriction>
          </xs:simpleType>
          <xs:simpleType name="AtLeast100M">
            <xs:restriction base="xs:string"><xs:minLength value="100000000"><xs:annotation><xs:documentation>a long one</xs:documentation></xs:annotation></xs:minLength></xs:restriction>
          </xs:simpleType>
          <xs:element name="Photo">
            <xs:complexType><xs:sequence>
              <xs:element name="Image" type="Text99MB"/>
              <xs:element name="Huge" minOccurs="0" type="AtLeast100M"/>
              <xs:element name="Inline" minOccurs="0">
                <xs:simpleType><xs:restriction base="Text99MB"><xs:maxLength value="200000000"/></xs:restriction></xs:simpleType>
              </xs:element>
            </xs:sequence></xs:complexType>
          </xs:element>
        </xs:schema>
        """

    static let inspector: Result<XMLInspector, any Error> = Result {
        XMLInspector(schemas: try SchemaRegistry(directories: [TestSchemas.write(["big.xsd": schema])]), limits: Limits())
    }

    @Test("a 4 MB value under maxLength 103809024 is valid (libxml2 alone enforces 3,809,024)")
    func largeValueUnderTheRealLimit() throws {
        let image = String(repeating: "A", count: 4_000_000)
        let result = try Self.inspector.get().inspect("<Photo xmlns=\"urn:big\"><Image>\(image)</Image><Inline>\(image)</Inline></Photo>")
        #expect(result.findings.isEmpty, "\(result.findings.map(\.detail))")
    }

    @Test("a facet taken out of libxml2's copy is still enforced: minLength 100000000 refuses a short value, with the element path")
    func minimumStillEnforced() throws {
        let result = try Self.inspector.get().inspect(#"<Photo xmlns="urn:big"><Image>A</Image><Huge>short</Huge></Photo>"#)
        #expect(result.rules == ["schema.invalid"])
        #expect(result.findings.first?.part.description == "xml:/Photo/Huge")
        #expect(result.findings.first?.detail.contains("allowed minimum length of '100000000'") == true)
        // The facets libxml2 reads right still work alongside: minLength 1.
        let empty = try Self.inspector.get().inspect(#"<Photo xmlns="urn:big"><Image></Image></Photo>"#)
        #expect(empty.rules == ["schema.invalid"])
    }

    @Test("over the real limit is refused in libxml2's words; binary types count octets")
    func violationWording() {
        let limit = ElementLengthLimit(facets: [LengthFacet(kind: .maxLength, value: 103_809_024)], countsOctets: false)
        let element = QName(namespace: "urn:big", localName: "Image")
        #expect(limit.violation(length: 103_809_024, element: element) == nil)
        #expect(limit.violation(length: 103_809_025, element: element)
            == "Element '{urn:big}Image': [facet 'maxLength'] The value has a length of '103809025'; this exceeds the allowed maximum length of '103809024'.")
    }

    @Test("the patched copy blanks only the misread facets and keeps every byte position")
    func patchKeepsPositions() throws {
        let original = Data(Self.schema.utf8)
        let patched = try #require(LargeLengthFacets.patched(original))
        #expect(patched.count == original.count)
        let text = String(decoding: patched, as: UTF8.self)
        #expect(!text.contains("103809024") && !text.contains("100000000") && !text.contains("a long one"))
        #expect(text.contains(#"<xs:minLength value="1"/>"#))
        #expect(text.split(separator: "\n").count == Self.schema.split(separator: "\n").count)
        #expect(LargeLengthFacets.patched(Data(#"<xs:maxLength value="99999999"/>"#.utf8)) == nil)
    }
}
