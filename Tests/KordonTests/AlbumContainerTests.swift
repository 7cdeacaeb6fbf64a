import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// Our container documents (`fixtures/album/containers/`), written against the album.
fileprivate let containers = repositoryRoot.appendingPathComponent("fixtures/album/containers")

fileprivate func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: containers.appendingPathComponent(name))
}

/// `xmllint --schema <album>/<schema>` on `data`: nil when it validates, else its complaint.
fileprivate func xmllint(_ data: Data, schema: String) throws -> String? {
    let directory = try temporaryDirectory("album-xmllint")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("doc.xml")
    try data.write(to: file)
    let result = try run(URL(fileURLWithPath: "/usr/bin/xmllint"),
                         ["--noout", "--nonet", "--schema", try albumDirectory().appendingPathComponent(schema).path, file.path])
    return result.status == 0 ? nil : result.stderr
}

/// What xmllint says of each document `data` carries, validated as a document of its own
/// against its family's schema (the album names each root schema after its root element):
/// `[(root local name, nil or xmllint's complaint)]`, in document order.
fileprivate func carriedValidity(_ data: Data) throws -> [(String, String?)] {
    let directory = try temporaryDirectory("album-carried")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("container.xml")
    try data.write(to: file)
    let listing = try run(URL(fileURLWithPath: "/usr/bin/env"),
                          ["python3", containers.appendingPathComponent("carried.py").path, file.path, directory.path])
    try #require(listing.status == 0, "carried.py: \(listing.stderr)")
    return try listing.text.split(separator: "\n").map { line in
        let fields = line.split(separator: " ").map(String.init)
        let path = fields[0], local = fields[2]
        guard FileManager.default.fileExists(atPath: try albumDirectory().appendingPathComponent("\(local).xsd").path) else {
            return (local, "no schema \(local).xsd in the album")
        }
        return (local, try xmllint(try Data(contentsOf: URL(fileURLWithPath: path)), schema: "\(local).xsd"))
    }
}

/// `kordon filter --schemas <album>` on `data`, with the JSON report.
fileprivate func filter(_ data: Data, _ arguments: [String] = []) throws -> (CommandResult, Report) {
    let directory = try temporaryDirectory("album-containers")
    defer { try? FileManager.default.removeItem(at: directory) }
    let report = directory.appendingPathComponent("report.json")
    let result = try kordon(["filter", "--schemas", try albumDirectory().path, "--report", report.path] + arguments, stdin: data)
    return (result, try JSONDecoder().decode(Report.self, from: try Data(contentsOf: report)))
}

/// `fixture` with the text of its first `<tag>…</tag>` after `after` replaced by `text`.
fileprivate func replacing(_ tag: String, after marker: String, with text: String, in fixture: Data) throws -> Data {
    var document = String(decoding: fixture, as: UTF8.self)
    let start = try #require(document.range(of: marker)).upperBound
    let open = try #require(document.range(of: "<\(tag)>", range: start..<document.endIndex))
    let close = try #require(document.range(of: "</\(tag)>", range: open.upperBound..<document.endIndex))
    document.replaceSubrange(open.upperBound..<close.lowerBound, with: text)
    return Data(document.utf8)
}

@Suite("Album: documents carried in containers", .timeLimit(.minutes(10)))
struct AlbumContainerTests {
    @Test("the fixtures are what they claim, per xmllint: every container valid per ED_Container.xsd, the carried documents valid or not per their own schemas")
    func fixturesAgreeWithXmllint() throws {
        for name in ["container-valid.xml", "container-invalid-inner.xml", "container-unknown-namespace.xml", "container-nested-invalid.xml"] {
            #expect(try xmllint(try fixture(name), schema: "ED_Container.xsd") == nil, "\(name)")
        }
        let valid = try carriedValidity(try fixture("container-valid.xml"))
        #expect(valid.map(\.0) == ["AppInclAEORegistry", "FreeBinaryDoc"])
        #expect(valid.allSatisfy { $0.1 == nil }, "\(valid)")
        let invalid = try carriedValidity(try fixture("container-invalid-inner.xml"))
        #expect(invalid.map(\.0) == ["AppInclAEORegistry", "FreeBinaryDoc"])
        #expect(invalid[0].1 == nil && invalid[1].1?.contains("Signature") == true, "\(invalid)")
        let nested = try carriedValidity(try fixture("container-nested-invalid.xml"))
        #expect(nested.map(\.0) == ["ED_Container", "AppInclAEORegistry", "FreeBinaryDoc"])
        #expect(nested[0].1 == nil && nested[1].1 == nil && nested[2].1 != nil, "\(nested)")
    }

    @Test("a valid container of two valid album documents is clean and passed byte for byte")
    func validContainer() throws {
        let input = try fixture("container-valid.xml")
        let (result, report) = try filter(input)
        #expect(result.status == 0, "\(report.findings)")
        #expect(report.verdict == .clean)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(result.stdout == input)
    }

    @Test("an invalid document in a valid container is held as schema.invalid at its path through the container")
    func invalidCarried() throws {
        let (result, report) = try filter(try fixture("container-invalid-inner.xml"))
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(report.verdict == .quarantined)
        let finding = try #require(report.findings.first { $0.rule == "schema.invalid" }, "\(report.findings)")
        #expect(finding.part == "xml:/ED_Container/ContainerDoc[2]/DocBody/FreeBinaryDoc/DocumentBody/Signature")
        #expect(finding.stage == .schema)
        #expect(report.findings.allSatisfy { !$0.part.contains("ContainerDoc[1]") }, "the valid first document is not blamed")
    }

    @Test("ESADout_CU in ED_Container (generated, xmllint agreeing): valid passes byte for byte; one broken pattern is held at its path through the container")
    func declarationInContainer() throws {
        let directory = try temporaryDirectory("album-esad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let validDeclaration = directory.appendingPathComponent("valid.xml")
        try albumDocument("ESADout_CU").write(to: validDeclaration)
        let valid = try albumDocument("ED_Container", ["--set-xml", "DocBody=\(validDeclaration.path)"])
        let (passed, passedReport) = try filter(valid)
        #expect(passed.status == 0, "\(passedReport.findings)")
        #expect(passed.stdout == valid)

        let manifest = directory.appendingPathComponent("manifest.json")
        let brokenDeclaration = directory.appendingPathComponent("broken.xml")
        try albumDocument("ESADout_CU", ["--invalid", "pattern", "--manifest", manifest.path]).write(to: brokenDeclaration)
        let broken = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as? [String: Any])
        let element = try #require(broken["path"] as? String)
        let container = try albumDocument("ED_Container", ["--set-xml", "DocBody=\(brokenDeclaration.path)"])
        let (held, report) = try filter(container)
        #expect(held.status == 1)
        #expect(report.findings.map(\.rule) == ["schema.invalid"], "\(report.findings)")
        #expect(report.findings.first?.part == "xml:/ED_Container/ContainerDoc/DocBody" + element)
    }

    /// Every default slot of the FTS album (but ED_Container's, above) and a root that holds it.
    static let albumSlots: [(root: String, slot: String)] = [
        ("ArchContainer", "ArchDoc"), ("ArchAddDocRequest", "ArchDoc"), ("ArchDocUpdate", "ArchDoc"),
        ("ArchDocResponse", "ArchDocument"), ("EPS_DocResponse", "DocResponseBody"), ("EPS_EnvResponse", "EnvData"),
        ("CustomsMark", "TransportDocumentBody"), ("CustomsMark", "ClsEsadInfoDocumentBody"),
        ("CustomsMark", "CustomsMarkDocumentBody"), ("CustomsMark", "TransitInfoDocumentBody"),
        ("ATA_CarnetStoryInfo", "CarnetOperation"), ("ATA_CarnetStoryInfo", "MinCul"), ("ATA_CarnetStoryInfo", "Body"),
        ("ReceiptPayment", "PaymentDocument"),
    ]

    @Test("every document-body slot of the album is a container by default: a broken ESADout_CU there is held at its path", arguments: albumSlots)
    func defaultSlots(_ root: String, _ slot: String) throws {
        let directory = try temporaryDirectory("album-slot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = directory.appendingPathComponent("manifest.json")
        let declaration = directory.appendingPathComponent("broken.xml")
        try albumDocument("ESADout_CU", ["--invalid", "pattern", "--manifest", manifest.path]).write(to: declaration)
        let broken = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as? [String: Any])
        let element = try #require(broken["path"] as? String)
        // Valid per the carrying format's own schema (xmllint agrees): the slot skips what it holds.
        let carrier = try albumDocument(root, ["--set-xml", "\(slot)=\(declaration.path)"])
        let (held, report) = try filter(carrier)
        #expect(held.status == 1)
        #expect(report.findings.map(\.rule) == ["schema.invalid"], "\(report.findings)")
        let part = try #require(report.findings.first?.part)
        #expect(part.hasPrefix("xml:/\(root)/") && part.hasSuffix("/\(slot)" + element), "\(part)")
    }

    @Test("a document of a namespace with no agreed schema in a container is held as schema.unknown-namespace")
    func unknownNamespaceCarried() throws {
        let (result, report) = try filter(try fixture("container-unknown-namespace.xml"))
        #expect(result.status == 1)
        #expect(report.verdict == .quarantined)
        #expect(report.findings.map(\.rule) == ["schema.unknown-namespace"], "\(report.findings)")
        #expect(report.findings.first?.part == "xml:/ED_Container/ContainerDoc[2]/DocBody/Invoice")
    }

    @Test("a container carried in a container is validated inside too")
    func nestedContainer() throws {
        let (result, report) = try filter(try fixture("container-nested-invalid.xml"))
        #expect(result.status == 1)
        #expect(report.findings.map(\.part) == ["xml:/ED_Container/ContainerDoc/DocBody/ED_Container/ContainerDoc[2]/DocBody/FreeBinaryDoc/DocumentBody/Signature"],
                "\(report.findings)")
    }

    @Test("EICAR in the attachments of carried documents is held as a virus at the attachment's path (kordon scan)")
    func eicarInCarriedAttachments() throws {
        let directory = try temporaryDirectory("album-eicar")
        defer { try? FileManager.default.removeItem(at: directory) }
        let valid = try fixture("container-valid.xml")
        // FileContent is base64Binary in the carried AppInclAEORegistry's schema: the
        // container's own schema knows nothing of it, the carried document's does.
        let typed = try replacing("ai_aeo:FileContent", after: "<ai_aeo:OtherDocs>", with: eicar.base64EncodedString(), in: valid)
        // FileData is a string type; an attachment of a few hundred bytes is decoded anyway.
        var letter = Data("Scanned pages follow.\n".utf8) + eicar + Data(repeating: 0x0A, count: 1)
        letter += Data(String(repeating: "Page 2 of 2, nothing else here.\n", count: 6).utf8)
        let untyped = try replacing("fbd:FileData", after: "<fbd:FileName>", with: letter.base64EncodedString(), in: valid)
        // The bare 68-byte file: 92 characters of base64 in a string-typed attachment element.
        let bare = try replacing("fbd:FileData", after: "<fbd:FileName>", with: eicar.base64EncodedString(), in: valid)
        for (name, data) in [("typed.xml", typed), ("untyped.xml", untyped), ("bare.xml", bare)] {
            #expect(try xmllint(data, schema: "ED_Container.xsd") == nil, "\(name) stays a valid container")
            try data.write(to: directory.appendingPathComponent(name))
        }
        let result = try kordon(["scan", "--format", "ndjson", "--schemas", try albumDirectory().path,
                                 directory.appendingPathComponent("typed.xml").path, directory.appendingPathComponent("untyped.xml").path,
                                 directory.appendingPathComponent("bare.xml").path])
        let reports = try result.reports()
        try #require(reports.count == 3, "\(result.stderr)")
        let byFile = Dictionary(uniqueKeysWithValues: reports.map { (URL(fileURLWithPath: $0.message.source).lastPathComponent, $0) })
        let typedVirus = byFile["typed.xml"]?.findings.filter { $0.stage == .virus } ?? []
        #expect(byFile["typed.xml"]?.verdict == .quarantined)
        #expect(Set(typedVirus.map(\.part)) == ["xml:/ED_Container/ContainerDoc[1]/DocBody/AppInclAEORegistry/DocsInfo/OtherDocs/FileContent"],
                "\(byFile["typed.xml"]?.findings ?? [])")
        let untypedVirus = byFile["untyped.xml"]?.findings.filter { $0.stage == .virus } ?? []
        #expect(byFile["untyped.xml"]?.verdict == .quarantined)
        #expect(Set(untypedVirus.map(\.part)) == ["xml:/ED_Container/ContainerDoc[2]/DocBody/FreeBinaryDoc/DocumentBody/FileData"],
                "\(byFile["untyped.xml"]?.findings ?? [])")
        let bareVirus = byFile["bare.xml"]?.findings.filter { $0.stage == .virus } ?? []
        #expect(byFile["bare.xml"]?.verdict == .quarantined)
        #expect(Set(bareVirus.map(\.part)) == ["xml:/ED_Container/ContainerDoc[2]/DocBody/FreeBinaryDoc/DocumentBody/FileData"],
                "\(byFile["bare.xml"]?.findings ?? [])")
    }

    @Test("the rule packs read carried documents: a KZ IIN in a carried application is sanitized and both documents still validate")
    func restrictedDataCarried() throws {
        let input = try replacing("ai_aeo:AEOOrganization", after: "<cat_ru:DocumentID>5D1E7A02", with: """
            <cat_ru:OrganizationName>ТОО Северный терминал</cat_ru:OrganizationName>
                      <cat_ru:RKOrganizationFeatures><cat_ru:IIN>791028302728</cat_ru:IIN></cat_ru:RKOrganizationFeatures>
                      <RUScat_ru:CountryA2Code>KZ</RUScat_ru:CountryA2Code>
            """, in: try fixture("container-valid.xml"))
        #expect(try carriedValidity(input).allSatisfy { $0.1 == nil })
        let (result, report) = try filter(input)
        #expect(result.status == 0)
        #expect(report.verdict == .sanitized, "\(report.findings)")
        #expect(report.findings.map(\.part) == ["xml:/ED_Container/ContainerDoc[1]/DocBody/AppInclAEORegistry/AEOOrganization/RKOrganizationFeatures/IIN"])
        #expect(result.stdout.range(of: Data("791028302728".utf8)) == nil)
        #expect(try xmllint(result.stdout, schema: "ED_Container.xsd") == nil)
        let carried = try carriedValidity(result.stdout)
        #expect(carried.map(\.0) == ["AppInclAEORegistry", "FreeBinaryDoc"])
        #expect(carried.allSatisfy { $0.1 == nil }, "\(carried)")
    }

    @Test("schemas.containers decides which wrappers are containers: an empty list leaves DocBody to its skip wildcard; a malformed entry is refused with its line")
    func configuredContainers() throws {
        let directory = try temporaryDirectory("album-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let none = directory.appendingPathComponent("none.yaml")
        try "schemas:\n  containers: []\n".write(to: none, atomically: true, encoding: .utf8)
        let input = try fixture("container-invalid-inner.xml")
        let (passed, report) = try filter(input, ["--config", none.path])
        #expect(passed.status == 0, "\(report.findings)")
        #expect(passed.stdout == input)

        let only = directory.appendingPathComponent("only.yaml")
        try "schemas:\n  containers:\n    - \"{urn:customs.ru:Information:ExchangeDocuments:ED_Container:*}DocBody\"\n"
            .write(to: only, atomically: true, encoding: .utf8)
        #expect(try filter(input, ["--config", only.path]).0.status == 1)

        let bad = directory.appendingPathComponent("bad.yaml")
        try "schemas:\n  containers:\n    - \"{urn:x}DocBody\"\n    - DocBody\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try kordon(["filter", "--config", bad.path], stdin: input)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("bad.yaml:4"), "\(refused.stderr)")
        #expect(refused.stderr.contains("schemas.containers"), "\(refused.stderr)")
    }
}
