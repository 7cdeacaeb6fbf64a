import Foundation
import KordonCore
@testable import KordonXML

/// Small agreed-schema look-alikes written to a temporary folder, shared by the tests.
///
/// - `common.xsd` (`urn:test:common`): `BinaryType` restricts `xs:base64Binary`,
///   `DerivedBinaryType` restricts that, `AttachmentType` extends it with an attribute
///   (simple content), `TaxpayerIdType` is twelve digits.
/// - `decl.xsd` (`urn:test:decl`): the root `GoodsDeclaration`; imports common types by a
///   remote URL (served by the local `common.xsd`, never fetched) and includes `decl-parts.xsd`.
/// - `decl-parts.xsd`: the included half, importing `common.xsd` by a relative path.
enum TestSchemas {
    static let decl = "urn:test:decl"
    static let common = "urn:test:common"

    static let files: [String: String] = [
        "common/common.xsd": """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:c="urn:test:common"
                   targetNamespace="urn:test:common" elementFormDefault="qualified">
          <xs:simpleType name="BinaryType"><xs:restriction base="xs:base64Binary"/></xs:simpleType>
          <xs:simpleType name="DerivedBinaryType">
            <xs:restriction base="c:BinaryType"><xs:maxLength value="99999999"/></xs:restriction>
          </xs:simpleType>
          <xs:complexType name="AttachmentType">
            <xs:simpleContent>
              <xs:extension base="c:DerivedBinaryType"><xs:attribute name="mediaType" type="xs:string"/></xs:extension>
            </xs:simpleContent>
          </xs:complexType>
          <xs:simpleType name="TaxpayerIdType">
            <xs:restriction base="xs:string"><xs:pattern value="[0-9]{12}"/></xs:restriction>
          </xs:simpleType>
        </xs:schema>
        """,
        "decl/decl.xsd": """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:d="urn:test:decl" xmlns:c="urn:test:common"
                   targetNamespace="urn:test:decl" elementFormDefault="qualified">
          <xs:import namespace="urn:test:common" schemaLocation="http://example.invalid/common.xsd"/>
          <xs:include schemaLocation="decl-parts.xsd"/>
          <xs:element name="GoodsDeclaration">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="DeclarantDetails" type="d:DeclarantType"/>
                <xs:element name="Signature" type="xs:base64Binary" minOccurs="0"/>
                <xs:element name="Scan" type="c:BinaryType" minOccurs="0"/>
                <xs:element name="AttachedDocument" type="d:AttachedDocumentType" minOccurs="0" maxOccurs="unbounded"/>
                <xs:element name="Remark" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:schema>
        """,
        "decl/decl-parts.xsd": """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:d="urn:test:decl" xmlns:c="urn:test:common"
                   targetNamespace="urn:test:decl" elementFormDefault="qualified">
          <xs:import namespace="urn:test:common" schemaLocation="../common/common.xsd"/>
          <xs:complexType name="DeclarantType">
            <xs:sequence>
              <xs:element name="Name" type="xs:string"/>
              <xs:element name="TaxpayerId" type="c:TaxpayerIdType"/>
            </xs:sequence>
          </xs:complexType>
          <xs:complexType name="AttachedDocumentType">
            <xs:sequence>
              <xs:element name="Title" type="xs:string"/>
              <xs:element name="Content" type="c:AttachmentType"/>
            </xs:sequence>
          </xs:complexType>
        </xs:schema>
        """,
    ]

    /// Writes `files` (relative path → text) under a new temporary folder and returns it.
    static func write(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kordon-xml-\(UUID().uuidString)")
        for (relative, text) in files {
            let url = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return folder
    }

    /// One registry for the whole test run (compiling is done once, like in production).
    static let shared: Result<SchemaRegistry, any Error> = Result {
        try SchemaRegistry(directories: [write(files)])
    }

    /// An inspector over the shared registry.
    static func inspector(_ limits: Limits = Limits()) throws -> XMLInspector {
        XMLInspector(schemas: try shared.get(), limits: limits)
    }

    /// A valid `GoodsDeclaration` with `extra` inserted after the declarant.
    static func declaration(taxpayerId: String = "123456789012", extra: String = "", prolog: String = #"<?xml version="1.0" encoding="UTF-8"?>"#) -> String {
        """
        \(prolog)
        <d:GoodsDeclaration xmlns:d="urn:test:decl">
          <d:DeclarantDetails>
            <d:Name>Trading House</d:Name>
            <d:TaxpayerId>\(taxpayerId)</d:TaxpayerId>
          </d:DeclarantDetails>\(extra)
        </d:GoodsDeclaration>
        """
    }

    /// `count` deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64 = 42) -> Data {
        var state = seed
        var data = Data(count: count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return data
    }

    /// Base64 wrapped at 76 characters, as mail and most XML writers do.
    static func wrapped(_ data: Data) -> String {
        data.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
    }
}

extension XMLInspector {
    /// Inspects a string as UTF-8 at the message path.
    func inspect(_ text: String, attachments: [String: Data] = [:]) -> XMLInspection {
        inspect(Data(text.utf8), at: .message, attachments: attachments)
    }
}

extension XMLInspection {
    /// The rules of the findings, in order.
    var rules: [String] { findings.map(\.rule) }
}
