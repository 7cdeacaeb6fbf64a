import Foundation
import KordonCore
@testable import KordonXML

/// The repository's sample schemas and fixtures, for the editing tests.
enum SampleDocuments {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let gd = "urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0"
    static let csdo = "urn:kordon:sample:EEC:M:SimpleDataObjects:v1.0"
    static let casdo = "urn:kordon:sample:EEC:M:CA:SimpleDataObjects:v1.0"
    static let ccdo = "urn:kordon:sample:EEC:M:ComplexDataObjects:v1.0"
    /// A real EEC namespace, as a rule pack would list it next to the sample's.
    static let eecCSDO = "urn:EEC:M:SimpleDataObjects:v0.4.14"
    static let eecCCDO = "urn:EEC:M:ComplexDataObjects:v0.4.14"

    /// Prefix bindings as a rule pack would declare them: the real EEC URI first.
    static let namespaces: [String: [String]] = [
        "csdo": [eecCSDO, csdo], "ccdo": [eecCCDO, ccdo], "casdo": [casdo], "gd": [gd],
    ]

    /// The registry of `schemas/eec-sample/`, compiled once for the run.
    static let registry: Result<SchemaRegistry, any Error> = Result {
        try SchemaRegistry(directories: [root.appendingPathComponent("schemas/eec-sample")])
    }

    static func inspector() throws -> XMLInspector {
        XMLInspector(schemas: try registry.get(), limits: Limits())
    }

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("fixtures/clean/\(name)"))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self)
    }

    /// `declaration-attachments.xml` with a natural person's data added to the declarant:
    /// a `casdo:PersonId` written with a character reference, and an identity document
    /// whose number is split by a comment. Valid against the sample schema.
    static func personalDeclaration() throws -> String {
        let person = """
            <csdo:TaxpayerId>9167517123</csdo:TaxpayerId>
                <casdo:PersonId>&#48;61211600012</casdo:PersonId>
                <ccdo:IdentityDocV3Details>
                <csdo:UnifiedCountryCode>KZ</csdo:UnifiedCountryCode>
                <csdo:IdentityDocKindCode>KZ02</csdo:IdentityDocKindCode>
                <csdo:DocId>0461<!-- checked -->52803</csdo:DocId>
                <csdo:DocCreationDate>2019-04-02</csdo:DocCreationDate></ccdo:IdentityDocV3Details>
            """
        let text = try text("declaration-attachments.xml")
        let replaced = text.replacingOccurrences(of: "<csdo:TaxpayerId>9167517123</csdo:TaxpayerId>", with: person)
        precondition(replaced != text, "the fixture changed: update SampleDocuments.personalDeclaration")
        return replaced
    }

    static func editable(_ text: String) throws -> XMLEditableDocument {
        try XMLEditableDocument(parsing: Data(text.utf8), limits: Limits())
    }

    /// Every site with its text, in visiting order, nothing changed.
    static func sites(of document: XMLEditableDocument, schemas: SchemaRegistry? = nil) -> [(site: XMLTextSite, text: String)] {
        var sites: [(XMLTextSite, String)] = []
        document.forEachText(skippingBinaryOf: schemas) { site, text in
            sites.append((site, String(decoding: text, as: UTF8.self)))
            return nil
        }
        return sites
    }
}

extension XMLSelector {
    /// A selector over the sample bindings.
    static func sample(_ xpath: String, id: String = "test.rule") -> XMLSelector {
        XMLSelector(id: id, xpath: xpath, namespaces: SampleDocuments.namespaces)
    }
}
