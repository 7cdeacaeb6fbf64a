import Foundation
import KordonCore
import Testing
@testable import KordonXML

/// What the album's schemas allow in an element's text, as the restricted-data stage
/// reads it before writing a replacement there.
@Suite("Schema value types of the album", .timeLimit(.minutes(10)))
struct SchemaValueTypeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The album beside the repository; missing, the suite fails.
    private func album() throws -> URL {
        let album = Self.repository.deletingLastPathComponent().appendingPathComponent("shared/formats/fts-5.23.0")
        try #require(FileManager.default.fileExists(atPath: album.appendingPathComponent("ReqOpenProc.xsd").path),
                     "the FTS album is expected at \(album.path)")
        return album
    }

    private func document(_ fixture: String) throws -> XMLEditableDocument {
        let data = try Data(contentsOf: Self.repository.appendingPathComponent("fixtures/album/masking/\(fixture)"))
        return try XMLEditableDocument(parsing: data, limits: Limits())
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("XSD patterns run in libxml2's own engine: anchored, \\d, \\p{IsCyrillic}")
    func patterns() throws {
        let digits = try #require(XSDPattern(#"\d{12}"#))
        #expect(digits.matches(bytes("850300000006")) == true)
        #expect(digits.matches(bytes("8503••••0006")) == false)
        #expect(digits.matches(bytes("8503000000061")) == false)  // anchored at both ends
        let cyrillic = try #require(XSDPattern(#"\p{IsCyrillic}{2}\d{6}"#))
        #expect(cyrillic.matches(bytes("АВ000056")) == true)
        #expect(cyrillic.matches(bytes("AB000056")) == false)  // Latin look-alikes are not Cyrillic
        #expect(XSDPattern("[a-") == nil)
    }

    @Test("cat_ru:IIN is a token of pattern \\d{12}, optional")
    func iin() throws {
        let schemas = try SchemaRegistry(directories: [try album()])
        let type = try #require(try document("reqopenproc-kz-declarant.xml")
            .valueType(ofElementAt: "/ReqOpenProc/Declarant/RKOrganizationFeatures/IIN", schemas: schemas))
        #expect(type.name == "{urn:customs.ru:CommonLeafTypes:5.10.0}IINType")
        #expect(type.summary.contains(#"pattern \d{12}"#))
        #expect(!type.isRequired)
        #expect(type.accepts(bytes("850300000006")))
        #expect(type.accepts(bytes("\n  850300000006 ")))  // a token: surrounding whitespace collapses
        #expect(!type.accepts(bytes("8503••••0006")))
        #expect(!type.accepts(bytes("85030000000")))
    }

    @Test("a name declared twice is judged by the declaration its text fits; required elements are known")
    func declarations() throws {
        let schemas = try SchemaRegistry(directories: [try album()])
        let document = try document("reqopenproc-kz-declarant.xml")
        // rodp:Principal is both the element-only PrincipalType and, inside it, an xs:boolean.
        let flag = try #require(document.valueType(ofElementAt: "/ReqOpenProc/Principal/Principal", schemas: schemas))
        #expect(flag.accepts(bytes("false")) && !flag.accepts(bytes("t••e")))
        #expect(flag.isRequired)
        let kind = try #require(document.valueType(ofElementAt: "/ReqOpenProc/Principal/TypePrincipal", schemas: schemas))
        #expect(kind.accepts(bytes("0")) && !kind.accepts(bytes("10")) && !kind.accepts(bytes("x")) && !kind.accepts(bytes("-1")))
        let participant = try #require(document.valueType(ofElementAt: "/ReqOpenProc/Principal/ParticipantID", schemas: schemas))
        #expect(participant.isRequired && !participant.accepts([]) && participant.accepts(bytes("••")))
        #expect(!participant.accepts(bytes(String(repeating: "7", count: 37))))
        // An element-only element says nothing of text; a path that names nothing has no type.
        #expect(document.valueType(ofElementAt: "/ReqOpenProc/Declarant", schemas: schemas)?.constrainsText != true)
        #expect(document.valueType(ofElementAt: "/ReqOpenProc/Nothing", schemas: schemas) == nil)
    }

    @Test("attributes: the declaration's type and its fixed value")
    func attributes() throws {
        let schemas = try SchemaRegistry(directories: [try album()])
        let document = try document("reqopenproc-kz-declarant.xml")
        // ReqOpenProc fixes DocumentModeID to 1004057E: nothing else is a value of it.
        let mode = try #require(document.valueType(ofAttribute: "DocumentModeID", holding: bytes("1004057E"), schemas: schemas))
        #expect(mode.name == "{urn:customs.ru:CommonLeafTypes:5.10.0}DocumentModeIDType")
        #expect(mode.accepts(bytes("1004057E")) && !mode.accepts(bytes("1004000E")))
        #expect(mode.summary.contains("one of 1 listed values"))
        #expect(document.valueType(ofAttribute: "NoSuchAttribute", holding: bytes("x"), schemas: schemas) == nil)
    }

    @Test("reading the value types of the largest album document costs little, once")
    func cost() throws {
        let schemas = try SchemaRegistry(directories: [try album()])
        let clock = ContinuousClock()
        let first = clock.measure { _ = schemas.valueFacets(for: "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0") }
        let again = clock.measure {
            for _ in 0..<100 { _ = schemas.valueFacets(for: "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0") }
        }
        let facets = schemas.valueFacets(for: "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0")
        #expect(facets.declarations.count > 500, "\(facets.declarations.count) element names")
        print("ESADout_CU value facets: \(facets.declarations.count) element names, first read \(first), 100 cached reads \(again)")
        #expect(first < .seconds(5))
        #expect(again < .milliseconds(100))
    }
}
