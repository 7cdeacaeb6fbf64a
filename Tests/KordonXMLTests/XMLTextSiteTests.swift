import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Editable XML: text sites", .timeLimit(.minutes(10)))
struct XMLTextSiteTests {
    @Test("sites come in document order with element, attribute, comment and PI paths")
    func kindsAndPaths() throws {
        let xml = """
            <?xml version="1.0"?>
            <!-- before the root -->
            <r xmlns="urn:x" xmlns:p="urn:p" id="r1">
              <a p:code="A1" kind="k">first<!-- inside a -->second</a>
              <a>  </a>
              <b><?note keep this?><c>deep</c></b>
              <a>third</a>
            </r>
            <?after the root?>
            """
        let sites = SampleDocuments.sites(of: try SampleDocuments.editable(xml))
        let described = sites.map { "\($0.site.path) \($0.site.kind) \($0.text)" }
        #expect(described == [
            "/comment() comment  before the root ",
            "/r/@id attribute(\"id\") r1",
            "/r/a[1]/@code attribute(\"code\") A1",
            "/r/a[1]/@kind attribute(\"kind\") k",
            "/r/a[1] elementText firstsecond",
            "/r/a[1]/comment() comment  inside a ",
            "/r/b/processing-instruction() processingInstruction keep this",
            "/r/b/c elementText deep",
            "/r/a[3] elementText third",
            "/processing-instruction() processingInstruction the root",
        ])
        #expect(sites.allSatisfy { !$0.site.isProtected })
    }

    @Test("a value split by a comment or written with character references is seen whole")
    func splitValues() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let sites = SampleDocuments.sites(of: document)
        let byPath = Dictionary(sites.filter { $0.site.kind == .elementText }.map { ($0.site.path, $0.text) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["/GoodsDeclaration/DeclarantDetails/PersonId"] == "061211600012")
        #expect(byPath["/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocId"] == "046152803")
        #expect(byPath["/GoodsDeclaration/DeclarantDetails/SubjectName"] == "ООО «Северный Транзит»")
    }

    @Test("base64Binary-typed text is not visited (attachments, signature); its attributes are")
    func payloadsSkipped() throws {
        let registry = try SampleDocuments.registry.get()
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let sites = SampleDocuments.sites(of: document, schemas: registry)
        let paths = Set(sites.map(\.site.path))
        #expect(!paths.contains("/GoodsDeclaration/AttachedDocument[1]/Content"))
        #expect(!paths.contains("/GoodsDeclaration/AttachedDocument[2]/Content"))
        #expect(paths.contains("/GoodsDeclaration/AttachedDocument[1]/Content/@mediaType"))
        #expect(paths.contains("/GoodsDeclaration/AttachedDocument[1]/FileName"))
        #expect(sites.allSatisfy { $0.text.count < 256 })
        // Without a registry the long attachments are still recognised by their base64 form.
        let unregistered = SampleDocuments.sites(of: document)
        #expect(!Set(unregistered.map(\.site.path)).contains("/GoodsDeclaration/AttachedDocument[1]/Content"))
        // A short signature is only known to be binary from the schema.
        let signed = try SampleDocuments.editable(try SampleDocuments.text("declaration-kz-ru.xml"))
        let signature = "/GoodsDeclaration/DigitalSignature/SignatureValue"
        #expect(SampleDocuments.sites(of: signed).contains { $0.site.path == signature })
        #expect(!SampleDocuments.sites(of: signed, schemas: registry).contains { $0.site.path == signature })
    }

    @Test("long text that only looks like base64 is visited: prose, and identifiers separated by spaces")
    func proseIsNotAPayload() throws {
        let prose = (1...40).map { "Word\($0) about 061211600012" }.joined(separator: " ")
        let numbers = Array(repeating: "061211600012", count: 40).joined(separator: " ")
        let payload = TestSchemas.wrapped(TestSchemas.bytes(600))
        let document = try SampleDocuments.editable("<r><p>\(prose)</p><n>\(numbers)</n><b>\(payload)</b></r>")
        #expect(SampleDocuments.sites(of: document).map(\.site.path) == ["/r/p", "/r/n"])
    }

    @Test("protect marks the element's subtree, attributes and comments included")
    func protection() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let identity = try #require(try document.select(.sample("//ccdo:IdentityDocV3Details")).first)
        document.protect(identity)
        let sites = SampleDocuments.sites(of: document)
        let protected = sites.filter(\.site.isProtected).map(\.site.path)
        #expect(protected == [
            "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/UnifiedCountryCode",
            "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/IdentityDocKindCode",
            "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocId",
            "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocId/comment()",
            "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocCreationDate",
        ])
        #expect(!document.isModified)
    }

    @Test("replacements from forEachText go in as text and are written back")
    func replacingSites() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><r a="061211600012"><v>0612<!--x-->11600012</v><!-- id 061211600012 --><?pi 061211600012?></r>"#
        let document = try SampleDocuments.editable(xml)
        document.forEachText(skippingBinaryOf: nil) { _, text in
            String(decoding: text, as: UTF8.self).contains("0612") || text == Array("x".utf8)
                ? Array(String(decoding: text, as: UTF8.self).replacingOccurrences(of: "061211600012", with: "0612••••0012")
                    .replacingOccurrences(of: "0612<!--x-->11600012", with: "").utf8)
                : nil
        }
        #expect(document.isModified)
        let output = String(decoding: document.serialize(), as: UTF8.self)
        #expect(output == #"<?xml version="1.0" encoding="UTF-8"?><r a="0612••••0012"><v>0612••••0012<!--x--></v><!-- id 0612••••0012 --><?pi 0612••••0012?></r>"#)
        #expect(!output.contains("061211600012"))
    }

    @Test("returning the same text, or nil, changes nothing")
    func unchangedSites() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.text("declaration-kz-ru.xml"))
        document.forEachText(skippingBinaryOf: nil) { _, text in text }
        #expect(!document.isModified)
        #expect(document.serialize() == (try SampleDocuments.fixture("declaration-kz-ru.xml")))
    }

    @Test("replacement text cannot break out of comments or processing instructions")
    func commentAndPIEscapes() throws {
        let document = try SampleDocuments.editable("<r><!-- a --><?t b?></r>")
        document.forEachText(skippingBinaryOf: nil) { site, _ in
            site.kind == .comment ? Array("x -->< y--".utf8) : Array("z ?><w/>".utf8)
        }
        let output = String(decoding: document.serialize(), as: UTF8.self)
        #expect(output.contains("<!--x - ->< y- - -->"))
        #expect(output.contains("<?t z ? ><w/>?>"))
        let reparsed = try SampleDocuments.editable(output)
        #expect(SampleDocuments.sites(of: reparsed).map(\.site.kind) == [.comment, .processingInstruction])
    }
}
