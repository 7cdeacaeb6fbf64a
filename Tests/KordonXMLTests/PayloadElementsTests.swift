import Foundation
import KordonCore
import Testing
@testable import KordonXML

@Suite("Payload elements and the short base64 fallback", .timeLimit(.minutes(10)))
struct PayloadElementsTests {
    @Test("a namespace family: a URI, any version (:*, :v*), or every namespace below a stem (:**)")
    func namespacePatterns() throws {
        let version = try NamespacePattern.parse("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:*")
        #expect(version.matches("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:5.22.0"))
        #expect(version.matches("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:5.23.0"))
        #expect(!version.matches("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:5.22.0:extra"))
        #expect(!version.matches("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDocX:5.22.0"))
        #expect(!version.matches("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:"))
        let eec = try NamespacePattern.parse("urn:EEC:M:SimpleDataObjects:v*")
        #expect(eec.matches("urn:EEC:M:SimpleDataObjects:v0.4.14"))
        #expect(!eec.matches("urn:EEC:M:SimpleDataObjects:0.4.14"))
        let family = try NamespacePattern.parse("urn:customs.ru:**")
        #expect(family.matches("urn:customs.ru:GoodsClassification:5.22.0"))
        #expect(!family.matches("urn:customs.ru:"))
        let exact = try NamespacePattern.parse("http://www.w3.org/2000/09/xmldsig#")
        #expect(exact.matches("http://www.w3.org/2000/09/xmldsig#"))
        #expect(!exact.matches("http://www.w3.org/2000/09/xmldsig#x"))
        for bad in ["", "urn:*:FreeDoc", "urn:**", "urn:a b:*", "urn:x:*:*"] {
            #expect(throws: NamespacePatternError.self, "\(bad)") { try NamespacePattern.parse(bad) }
        }
        for bad in ["", "A//B", "/A", "a:B", "A B"] {
            #expect(throws: PayloadElementError.self, "\(bad)") { try PayloadElements.Element(namespace: "urn:x:y", path: bad) }
        }
    }

    @Test("an entry with a parent matches only under that parent; the element's namespace must match, its parents' names only")
    func elementPaths() throws {
        let elements = PayloadElements([try .init(namespace: "urn:t:Doc:*", path: "AppliedDocument/Base"), try .init(namespace: "urn:t:Doc:*", path: "Photo")])
        let xml = """
            <d:Root xmlns:d="urn:t:Doc:1.0" xmlns:o="urn:other">
              <d:AppliedDocument><d:Base>QUJD</d:Base></d:AppliedDocument>
              <d:ApplicationForm><d:Base>prose</d:Base></d:ApplicationForm>
              <o:AppliedDocument><d:Base>QUJD</d:Base></o:AppliedDocument>
              <d:AppliedDocument><o:Base>QUJD</o:Base></d:AppliedDocument>
              <d:Photo>QUJD</d:Photo>
            </d:Root>
            """
        guard case .success(let prepared) = XMLInput.prepare(Data(xml.utf8), limits: Limits()) else { Issue.record("not prepared"); return }
        let document = try XMLDocument(parsing: prepared)
        var matched: [String] = []
        document.walk { node, tracker in
            if elements.contains(node.qname, at: node) { matched.append(tracker.path) }
        }
        // AppliedDocument[2] is in another namespace: parents are matched by local name.
        #expect(matched == ["/Root/AppliedDocument[1]/Base", "/Root/AppliedDocument[2]/Base", "/Root/Photo"], "\(matched)")
    }

    @Test("short files are decoded: 12 bytes, EICAR and 100 zero bytes, mostly zero bytes; on one line, wrapped and indented, or in groups of four")
    func shortFiles() {
        let eicar = Data("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*".utf8)
        let files = [
            Data([0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0xFF, 0xFF]),
            eicar + Data(count: 100),
            Data((0..<150).map { UInt8($0 % 7 == 0 ? 1 : 0) }) + Data("payload".utf8),
        ]
        for file in files {
            let text = file.base64EncodedString()
            #expect(Self.decodeFile(text) == file, "\(text)")
            let wrapped = stride(from: 0, to: text.count, by: 76).map { start in
                String(text.dropFirst(start).prefix(76))
            }.joined(separator: "\n      ")
            #expect(Self.decodeFile("\n      " + wrapped + "\n    ") == file, "\(wrapped)")
            let grouped = stride(from: 0, to: text.count, by: 4).map { String(text.dropFirst($0).prefix(4)) }.joined(separator: " ")
            #expect(Self.decodeFile(grouped) == file, "\(grouped)")
        }
    }

    @Test("names, codes, numbers and words are not files, nor base64 of text")
    func notFiles() {
        let texts = [
            "IVANOV IVAN IVANOVICH", "Ivanov Ivan Ivanovich", "10702070/010124/0000001", "10702070/010124/00000012",
            "40702810900000012345", "WVWZZZ1JZXW000001", "MSCU1234567", "4B0E9E0C0F4D4C7B9E513C9F1A2B7D10",
            "4b0e9e0c-0f4d-4c7b-9e51-3c9f1a2b7d10", "ABCDEFGHIJKLMNOPQRSTUVWX", "850314300009", "2026-12-04T21:00:00",
            "Logistic", "transitClose", "LogisticsCompany", "RU10702070ABCD12", "Hello World Text", "ООО Ромашка Логистик",
            "SGVsbG8sIHdvcmxkISBIZWxsbyE=", Data("Иванов Иван Иванович".utf8).base64EncodedString(), "A1B2C3D4E5F6G7H8",
            "info@example-company.ru", "https://customs.gov.ru/a/b", "0000000000000000000000000000", "DtIssueSuspended",
            "ApplicationSubmitted", "GoodsDeclarationRegistered", "Goods from China 2024", "Ivan Petrov 1985 AB12",
            "Model X5 Serial Ab12Cd34", "WDVPIVAlQEFQWzRcU FpY", "Invoice No 12 dated 2024",
        ]
        for text in texts {
            #expect(Self.decodeFile(text) == nil, "\(text)")
        }
    }

    static func decodeFile(_ text: String) -> Data? {
        Array(text.utf8).withUnsafeBufferPointer { ShortBase64.decodeFile($0) }
    }
}
