import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Editable XML: selecting elements with XPath", .timeLimit(.minutes(10)))
struct XMLSelectionTests {
    @Test("a prefix bound to the real EEC URI and the sample URI selects the sample's elements, in document order")
    func taxpayerIds() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.text("declaration-attachments.xml"))
        let selected = try document.select(.sample("//csdo:TaxpayerId"))
        #expect(selected.map(\.path) == [
            "/GoodsDeclaration/DeclarantDetails/TaxpayerId",
            "/GoodsDeclaration/ConsignorDetails/TaxpayerId",
            "/GoodsDeclaration/ConsigneeDetails/TaxpayerId",
        ])
        #expect(selected.map { String(decoding: document.text(of: $0), as: UTF8.self) } == ["9167517123", "0312984269", "399315393987"])
        // Bound to the real EEC URI only, nothing in the sample namespace matches.
        let eecOnly = XMLSelector(id: "eec", xpath: "//csdo:TaxpayerId", namespaces: ["csdo": [SampleDocuments.eecCSDO]])
        #expect(try document.select(eecOnly).isEmpty)
        #expect(!document.isModified)
    }

    @Test("a document declaring both URIs of a prefix is searched with each, merged in document order without duplicates")
    func bothBindingsDeclared() throws {
        let xml = """
            <r xmlns:a="\(SampleDocuments.eecCSDO)" xmlns:b="\(SampleDocuments.csdo)">
              <b:TaxpayerId>1</b:TaxpayerId><a:TaxpayerId>2</a:TaxpayerId>
              <x><b:TaxpayerId>3</b:TaxpayerId></x><a:TaxpayerId>4</a:TaxpayerId>
            </r>
            """
        let document = try SampleDocuments.editable(xml)
        let selected = try document.select(.sample("//csdo:TaxpayerId | //csdo:TaxpayerId[. = '3']/.."))
        #expect(selected.map { String(decoding: document.text(of: $0), as: UTF8.self) } == ["1", "2", "3", "3", "4"])
        #expect(selected.map(\.path) == ["/r/TaxpayerId[1]", "/r/TaxpayerId[2]", "/r/x", "/r/x/TaxpayerId", "/r/TaxpayerId[3]"])
        // Selecting again hands out the same handles.
        #expect(try document.select(.sample("//csdo:TaxpayerId")) == selected.filter { $0.path != "/r/x" })
    }

    @Test("a step under a complex element: the identity document's number, not the attached documents'")
    func identityDocumentNumber() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let selected = try document.select(.sample("//ccdo:IdentityDocV3Details/csdo:DocId"))
        #expect(selected.map(\.path) == ["/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocId"])
        #expect(document.text(of: try #require(selected.first)) == Array("046152803".utf8))
        #expect(try document.select(.sample("//csdo:DocId")).count == 3)
        // A text node stands for its element.
        #expect(try document.select(.sample("//casdo:PersonId/text()")).map(\.path) == ["/GoodsDeclaration/DeclarantDetails/PersonId"])
        // A relative expression starts at the document node.
        #expect(try document.select(.sample("gd:GoodsDeclaration/gd:DeclarantDetails/casdo:PersonId")).count == 1)
        #expect(try document.select(.sample("//gd:AttachedDocument")).map(\.path) == [
            "/GoodsDeclaration/AttachedDocument[1]", "/GoodsDeclaration/AttachedDocument[2]",
        ])
    }

    @Test("many results get their paths from one walk, the same as counted one by one")
    func manyResults() throws {
        let items = (1...40).map { "<i><v>\($0)</v></i>" }.joined()
        let document = try SampleDocuments.editable("<r><a/>\(items)<z><v>last</v></z></r>")
        let selected = try document.select(XMLSelector(id: "v", xpath: "//v", namespaces: [:]))
        #expect(selected.count == 41)
        #expect(selected.first?.path == "/r/i[1]/v")
        #expect(selected[39].path == "/r/i[40]/v")
        #expect(selected.last?.path == "/r/z/v")
    }

    @Test("check() names the selector when libxml2 rejects the expression", arguments: [
        "//csdo:TaxpayerId[", "//csdo:", "count(//csdo:TaxpayerId)", "//undeclared:TaxpayerId", "//x[unknown-function()]",
    ])
    func invalidExpressions(xpath: String) throws {
        let selector = XMLSelector.sample(xpath, id: "kz.broken")
        let error = try #require(throws: KordonError.self) { try selector.check() }
        #expect(error.code == "rules.xpath.invalid")
        #expect(error.message.contains("kz.broken"))
    }

    @Test("check() passes good expressions and rejects a prefix bound to no URI")
    func checkedExpressions() throws {
        try XMLSelector.sample("//csdo:TaxpayerId").check()
        try XMLSelector.sample("//ccdo:IdentityDocV3Details/csdo:DocId | //casdo:PersonId/text()").check()
        try XMLSelector(id: "plain", xpath: "/GoodsDeclaration/*[2]", namespaces: [:]).check()
        // Function names are read outside literals; axes, node tests and operators are not calls.
        try XMLSelector.sample("//csdo:DocId[contains(., 'f(') and (string-length(.) > 3)]/child::text()").check()
        try XMLSelector.sample("//csdo:DocId[processing-instruction ( 'x' ) or not(ancestor-or-self::node())]").check()
        #expect(throws: KordonError.self) { try XMLSelector.sample("//csdo:DocId[csdo:upper-case(.)]").check() }
        #expect(throws: KordonError.self) { try XMLSelector.sample("//csdo:DocId[matches(., '[0-9]+')]").check() }
        let empty = XMLSelector(id: "empty", xpath: "//e:x", namespaces: ["e": []])
        #expect(throws: KordonError(code: "rules.xpath.invalid", message: empty.invalidMessage(
            XPathFailure(reason: .invalid("the namespace prefix 'e' is bound to no namespace URI", position: nil))))) {
            try empty.check()
        }
    }

    @Test("selecting attributes or a value is an error, not a silent miss", arguments: ["//@mediaType", "count(//csdo:DocId)", "//comment()"])
    func nonElementResults(xpath: String) throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let error = try #require(throws: KordonError.self) { try document.select(.sample(xpath)) }
        #expect(error.code == "rules.xpath.result")
    }

    @Test("an XPath bomb on a 5,000-element document stops at the operation limit, quickly")
    func xpathBomb() throws {
        let xml = "<r>" + String(repeating: "<a><b>x</b></a>", count: 2_500) + "</r>"
        let document = try SampleDocuments.editable(xml)
        let start = ContinuousClock.now
        let error = try #require(throws: KordonError.self) {
            try document.select(XMLSelector(id: "bomb", xpath: "//*[count(//*//*//*) > 0]", namespaces: [:]))
        }
        let elapsed = ContinuousClock.now - start
        #expect(error.code == "xml.xpath.limit")
        #expect(error.message.contains("bomb"))
        #expect(elapsed < .seconds(3), "took \(elapsed)")
        // The document is still usable afterwards.
        #expect(try document.select(XMLSelector(id: "b", xpath: "//b", namespaces: [:])).count == 2_500)
    }

    @Test("errors never carry document text")
    func errorsWithoutContent() throws {
        let secret = "061211600012"
        let document = try SampleDocuments.editable("<r><v a='\(secret)'>\(secret)</v></r>")
        for xpath in ["//v[. = 'x'", "//v/@a", "string(//v)", "//v[undefined:f()]"] {
            let error = try #require(throws: KordonError.self) { try document.select(.sample(xpath)) }
            #expect(!error.message.contains(secret))
        }
        let refused = try #require(throws: KordonError.self) {
            try XMLEditableDocument(parsing: Data("<r><v>\(secret)</v></x>".utf8), limits: Limits())
        }
        #expect(refused.code == "xml.malformed")
        #expect(!refused.message.contains(secret))
    }

    @Test("the guard and the parser refuse what the inspector refuses", arguments: [
        ("<!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><r>&e;</r>", "xml.doctype"),
        ("", "xml.empty"),
        ("<r><a></r>", "xml.malformed"),
        ("<?xml version=\"1.0\" encoding=\"UTF-7\"?><r/>", "xml.encoding"),
    ])
    func refusals(xml: String, code: String) throws {
        let error = try #require(throws: KordonError.self) { try XMLEditableDocument(parsing: Data(xml.utf8), limits: Limits()) }
        #expect(error.code.rawValue == code)
    }
}
