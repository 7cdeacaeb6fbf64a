import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Editable XML: edits and writing back", .timeLimit(.minutes(10)))
struct XMLEditingTests {
    private func only(_ xpath: String, in document: XMLEditableDocument) throws -> XMLSelectedElement {
        let selected = try document.select(.sample(xpath))
        try #require(selected.count == 1, "\(xpath) selected \(selected.count)")
        return selected[0]
    }

    private func inspect(_ data: Data) throws -> XMLInspection {
        try SampleDocuments.inspector().inspect(data, at: .message)
    }

    @Test("nothing changed: serialize() gives back the original bytes")
    func unchangedIsIdentical() throws {
        for name in ["declaration-kz-ru.xml", "declaration-cp1251.xml", "declaration-utf16le.xml", "envelope-kz-by.xml"] {
            let original = try SampleDocuments.fixture(name)
            let document = try XMLEditableDocument(parsing: original, limits: Limits())
            _ = try document.select(.sample("//csdo:TaxpayerId"))
            #expect(!document.isModified)
            #expect(document.serialize() == original, "\(name)")
        }
    }

    @Test("written by libxml2, the fixtures come out byte for byte as they went in (UTF-8, windows-1251, UTF-16LE)")
    func libxml2WritesFixturesIdentically() throws {
        for name in ["declaration-kz-ru.xml", "declaration-cp1251.xml", "declaration-utf16le.xml",
                     "declaration-attachments.xml", "envelope-kz-by.xml"] {
            let original = try SampleDocuments.fixture(name)
            let document = try XMLEditableDocument(parsing: original, limits: Limits())
            let code = try #require(try document.select(.sample("//csdo:EDocCode")).first)
            document.setText(of: code, to: document.text(of: code))  // a change that changes nothing
            #expect(document.isModified)
            #expect(document.serialize() == original, "\(name)")
        }
    }

    @Test("one change leaves every other line of the document as it was")
    func noReformatting() throws {
        let original = try SampleDocuments.text("declaration-kz-ru.xml")
        let document = try SampleDocuments.editable(original)
        document.setText(of: try #require(try document.select(.sample("//csdo:TaxpayerId")).first), to: Array("P0000001".utf8))
        #expect(document.isModified)
        let output = String(decoding: document.serialize(), as: UTF8.self)
        let before = original.components(separatedBy: "\n"), after = output.components(separatedBy: "\n")
        #expect(before.count == after.count)
        let changed = zip(before, after).filter { $0 != $1 }
        #expect(changed.map(\.1) == ["    <csdo:TaxpayerId>P0000001</csdo:TaxpayerId>"])
    }

    @Test("the inspector's own parse is handed on for editing: same edit, same output as a fresh parse")
    func inspectionHandsOnItsDocument() throws {
        let data = try SampleDocuments.fixture("declaration-kz-ru.xml")
        let (inspection, handed) = try SampleDocuments.inspector().inspectForEditing(data, at: .message)
        #expect(inspection.findings.isEmpty, "\(inspection.findings)")
        let document = try #require(handed)
        let fresh = try XMLEditableDocument(parsing: data, limits: Limits())
        for edited in [document, fresh] {
            edited.setText(of: try #require(try edited.select(.sample("//csdo:TaxpayerId")).first), to: Array("P0000001".utf8))
        }
        #expect(document.serialize() == fresh.serialize())
        // An MTOM root's inspection resolves xop:Include into its tree: it is not handed on.
        #expect(try SampleDocuments.inspector().inspectForEditing(data, at: .message, attachments: ["a@b": Data([1])]).document == nil)
    }

    @Test("replacement text that looks like markup or entities is written escaped and reads back literally")
    func entityLikeReplacement() throws {
        let tricky = "A&amp;B <c/> ]]> &#49; &e; \"q\" 'a'"
        let document = try SampleDocuments.editable(#"<r k="v"><x>old<!--c--><y/>tail</x></r>"#)
        let x = try only("/r/x", in: document)
        document.setText(of: x, to: Array(tricky.utf8))
        document.forEachText(skippingBinaryOf: nil) { site, _ in site.kind == .attribute("k") ? Array(tricky.utf8) : nil }
        let output = String(decoding: document.serialize(), as: UTF8.self)
        #expect(output.contains("<x>A&amp;amp;B &lt;c/&gt; ]]&gt; &amp;#49; &amp;e; \"q\" 'a'</x>"))
        #expect(output.contains(#"k="A&amp;amp;B &lt;c/&gt; ]]&gt; &amp;#49; &amp;e; &quot;q&quot; 'a'""#))
        let reread = try SampleDocuments.editable(output)
        #expect(SampleDocuments.sites(of: reread).map(\.text) == [tricky, tricky])
    }

    @Test("a new own text goes into the first text child; comments and child elements stay")
    func replaceOwnText() throws {
        let document = try SampleDocuments.editable("<r><v>12<!--a-->34<b>in</b>56</v></r>")
        document.forEachText(skippingBinaryOf: nil) { site, text in site.path == "/r/v" ? Array("masked".utf8) : nil }
        #expect(String(decoding: document.serialize(), as: UTF8.self) == "<r><v>masked<!--a--><b>in</b></v></r>")
    }

    @Test("setText replaces all content, descendants and comments included")
    func setWholeText() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let docId = try only("//ccdo:IdentityDocV3Details/csdo:DocId", in: document)
        document.setText(of: docId, to: Array("•••••••••".utf8))
        #expect(document.text(of: docId) == Array("•••••••••".utf8))
        let details = try only("//ccdo:IdentityDocV3Details", in: document)
        document.setText(of: details, to: [])
        #expect(document.text(of: details).isEmpty)
        #expect(document.text(of: docId).isEmpty)  // the DocId went with its parent's content
        #expect(String(decoding: document.serialize(), as: UTF8.self).contains("<ccdo:IdentityDocV3Details/>"))
    }

    @Test("malformed UTF-8 and control characters in a replacement become U+FFFD")
    func unsafeReplacementBytes() throws {
        let document = try SampleDocuments.editable("<r><v>x</v></r>")
        document.setText(of: try only("/r/v", in: document), to: [0x41, 0x00, 0x01, 0xC3, 0x28, 0x0A, 0x42])
        let output = document.serialize()
        #expect(String(decoding: output, as: UTF8.self) == "<r><v>A\u{FFFD}\u{FFFD}\u{FFFD}(\nB</v></r>")
        _ = try XMLEditableDocument(parsing: output, limits: Limits())
    }

    @Test("removing elements: handles into the subtree become inert, other documents' handles are ignored")
    func removal() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let details = try only("//ccdo:IdentityDocV3Details", in: document)
        let docId = try only("//ccdo:IdentityDocV3Details/csdo:DocId", in: document)
        document.remove(details)
        #expect(document.text(of: docId).isEmpty)
        document.setText(of: docId, to: Array("x".utf8))
        document.remove(docId)
        document.protect(docId)
        document.remove(details)
        #expect(try document.select(.sample("//csdo:DocId")).count == 2)
        let output = String(decoding: document.serialize(), as: UTF8.self)
        #expect(!output.contains("IdentityDocV3Details"))
        #expect(output.contains("<casdo:PersonId>061211600012</casdo:PersonId>\n    <ccdo:SubjectAddressDetails>"))
        // A handle from another document does nothing here.
        let other = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        let foreign = try only("//casdo:PersonId", in: other)
        let unchanged = try SampleDocuments.editable("<r><a>1</a><b>2</b></r>")
        unchanged.remove(foreign)
        unchanged.setText(of: foreign, to: [])
        #expect(unchanged.text(of: foreign).isEmpty)
        #expect(!unchanged.isModified)
    }

    @Test("a sanitized sample declaration still validates; removing a required element does not")
    func revalidation() throws {
        let document = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        #expect(try inspect(Data(try SampleDocuments.personalDeclaration().utf8)).findings.isEmpty)
        document.setText(of: try only("//casdo:PersonId", in: document), to: Array("PSEUDO7F3A9C1".utf8))
        document.setText(of: try only("//ccdo:IdentityDocV3Details/csdo:DocId", in: document), to: Array("••••••••".utf8))
        document.remove(try only("/gd:GoodsDeclaration/gd:DeclarantDetails/csdo:TaxpayerId", in: document))
        let sanitized = document.serialize()
        let inspection = try inspect(sanitized)
        #expect(inspection.findings.isEmpty, "\(inspection.findings)")
        #expect(inspection.payloads.count == 2)  // the attachments came through intact
        let text = String(decoding: sanitized, as: UTF8.self)
        #expect(!text.contains("061211600012") && !text.contains("52803") && !text.contains("9167517123"))

        let broken = try SampleDocuments.editable(try SampleDocuments.personalDeclaration())
        broken.remove(try only("/gd:GoodsDeclaration/csdo:EDocId", in: broken))
        let findings = try inspect(broken.serialize()).findings
        #expect(findings.map(\.rule) == ["schema.invalid"])
        #expect(findings.first?.stage == .schema)
    }

    @Test("windows-1251 stays windows-1251, with its declaration, and still validates")
    func windows1251RoundTrip() throws {
        let original = try SampleDocuments.fixture("declaration-cp1251.xml")
        let document = try XMLEditableDocument(parsing: original, limits: Limits())
        let name = try #require(try document.select(.sample("//gd:DeclarantDetails/csdo:SubjectName")).first)
        document.setText(of: name, to: Array("ООО «Ёлка» • № 7 ✓".utf8))
        let output = document.serialize()
        #expect(output.starts(with: Data(#"<?xml version="1.0" encoding="windows-1251"?>"#.utf8)))
        let decoded = try #require(String(data: output, encoding: .windowsCP1251))
        // ✓ is not in windows-1251: it is written as a character reference.
        #expect(decoded.contains("<csdo:SubjectName>ООО «Ёлка» • № 7 &#10003;</csdo:SubjectName>"))
        #expect(output.count < original.count + 40)  // one byte per Cyrillic letter: not UTF-8
        #expect(try inspect(output).findings.isEmpty)
        let reread = try XMLEditableDocument(parsing: output, limits: Limits())
        #expect(reread.text(of: try #require(try reread.select(.sample("//gd:DeclarantDetails/csdo:SubjectName")).first))
            == Array("ООО «Ёлка» • № 7 ✓".utf8))
    }

    @Test("UTF-16 comes back as UTF-16 in its byte order, with its byte order mark and declaration")
    func utf16RoundTrip() throws {
        let original = try SampleDocuments.fixture("declaration-utf16le.xml")
        let document = try XMLEditableDocument(parsing: original, limits: Limits())
        let name = try #require(try document.select(.sample("//gd:DeclarantDetails/csdo:SubjectName")).first)
        document.setText(of: name, to: Array("ЖШС «Қазақ Өнім»".utf8))
        let output = document.serialize()
        #expect(output.starts(with: [0xFF, 0xFE, 0x3C, 0x00]))
        let text = try #require(String(data: output.dropFirst(2), encoding: .utf16LittleEndian))
        #expect(text.hasPrefix(#"<?xml version="1.0" encoding="UTF-16"?>"#))
        #expect(text.contains("ЖШС «Қазақ Өнім»"))
        #expect(try inspect(output).findings.isEmpty)
    }

    @Test("eight documents edited on eight tasks at once give the same output as one by one")
    func concurrentDocuments() async throws {
        let names = ["declaration-kz-ru.xml", "declaration-cp1251.xml", "declaration-utf16le.xml", "declaration-attachments.xml"]
        let inputs = try (0..<8).map { try SampleDocuments.fixture(names[$0 % names.count]) }
        @Sendable func sanitize(_ data: Data) throws -> Data {
            let document = try XMLEditableDocument(parsing: data, limits: Limits())
            for element in try document.select(.sample("//csdo:TaxpayerId | //csdo:CommunicationChannelId")) {
                document.setText(of: element, to: Array("000000000".utf8))
            }
            document.forEachText(skippingBinaryOf: try SampleDocuments.registry.get()) { site, text in
                site.path.hasSuffix("/SubjectBriefName") ? Array(text.reversed()) : nil
            }
            return document.serialize()
        }
        let expected = try inputs.map(sanitize)
        let results = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
            for (k, input) in inputs.enumerated() {
                group.addTask { (k, try sanitize(input)) }
            }
            var results = [Data](repeating: Data(), count: inputs.count)
            for try await (k, data) in group { results[k] = data }
            return results
        }
        #expect(results == expected)
        for (k, output) in results.enumerated() {
            #expect(output != inputs[k])
            #expect(try inspect(output).findings.isEmpty)
        }
    }
}
