import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// Rule packs and routes on the real album of formats (FTS 5.23.0 and the EEC schemas it
/// carries), through `kordon filter` with the whole album as agreed schemas. Every place of
/// `rules/README.md` that an album document carries is filled in a document of
/// `fixtures/album/rules` (written for these tests, valid per `xmllint --schema`), comes out
/// changed, with a finding of the rule that covers it at its element path, and the output is
/// still valid for xmllint. Routes are read from the documents, not given on the command line.
@Suite(.timeLimit(.minutes(10))) struct AlbumRulesTests {
    static let fixtures = repositoryRoot.appendingPathComponent("fixtures/album/rules")

    /// The album; it must be there (CI has it), so a missing album fails the suite.
    static func albumDirectory() throws -> URL {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/formats/fts-5.23.0")
        try #require(FileManager.default.fileExists(atPath: url.appendingPathComponent("ESADout_CU.xsd").path),
                     "the album of formats is not at \(url.path)")
        return url
    }

    /// One personal-data place: the element path (local names), what the fixture holds there,
    /// the rule that must change it.
    struct Place: CustomStringConvertible {
        var path: String
        var value: String
        var rule: String
        var description: String { "\(rule) at \(path)" }
    }

    /// A fixture, its schema in the album, the route it names, and its places.
    struct Case: CustomStringConvertible {
        var fixture: String
        var schema: String
        var route: Report.Route?
        var packs: String
        var places: [Place]
        var description: String { fixture }
    }

    static let esad = "/ESADout_CU/ESADout_CUGoodsShipment"
    static let cases: [Case] = [
        Case(fixture: "esadout-cu-person-kz-ru.xml", schema: "ESADout_CU.xsd", route: Report.Route(from: "KZ", to: "RU"),
             packs: "EAEU@2026.12.1,KZ@2026.12.1,RU@2026.12.1", places: [
            Place(path: "\(esad)/ESADout_CUDeclarant/RFOrganizationFeatures/INN", value: "500100732259", rule: "ru.fts.person-inn"),
            Place(path: "\(esad)/ESADout_CUDeclarant/PersonId", value: "FL7700918273", rule: "eaeu.fts.person-id"),
            Place(path: "\(esad)/ESADout_CUDeclarant/IdentityCard/IdentityCardSeries", value: "4508", rule: "eaeu.fts.identity-card-series"),
            Place(path: "\(esad)/ESADout_CUDeclarant/IdentityCard/IdentityCardNumber", value: "731562", rule: "eaeu.fts.identity-card-number"),
            Place(path: "\(esad)/ESADout_CUCarrier/ESADout_CUDriverInformation/IdentityCard/IdentityCardNumber", value: "045612378",
                  rule: "eaeu.fts.identity-card-number"),
            Place(path: "\(esad)/ESADout_CUGoods/ESADout_CUPresentedDocument/PrDocumentNumber", value: "4508 731562",
                  rule: "eaeu.fts.named-identity-document"),
            Place(path: "/ESADout_CU/FilledPerson/SignatoryPersonIdentityDetails/IdentityCardSeries", value: "4011",
                  rule: "eaeu.fts.identity-card-series"),
            Place(path: "/ESADout_CU/FilledPerson/SignatoryPersonIdentityDetails/IdentityCardNumber", value: "654321",
                  rule: "eaeu.fts.identity-card-number"),
            Place(path: "/ESADout_CU/SignCertifPerson/SNILS", value: "112-233-445 95", rule: "ru.fts.snils"),
        ]),
        Case(fixture: "esadout-cu-union-persons.xml", schema: "ESADout_CU.xsd", route: Report.Route(from: "KZ", to: "RU"),
             packs: "EAEU@2026.12.1,KZ@2026.12.1,RU@2026.12.1", places: [
            Place(path: "\(esad)/ESADout_CUConsignor/RKOrganizationFeatures/IIN", value: "880311300155", rule: "ru.fts.kz-iin"),
            Place(path: "\(esad)/ESADout_CUConsignee/RBOrganizationFeatures/RBIdentificationNumber", value: "3140583A011PB7",
                  rule: "ru.fts.by-identification-number"),
            Place(path: "\(esad)/ESADout_CUFinancialAdjustingResponsiblePerson/RAOrganizationFeatures/SocialServiceNumber",
                  value: "2907810123", rule: "ru.fts.am-social-service-number"),
            Place(path: "\(esad)/ESADout_CUDeclarant/KGOrganizationFeatures/KGINN", value: "21505198700123", rule: "ru.fts.kg-personal-number"),
        ]),
        Case(fixture: "administrative-offense-data-request.xml", schema: "AdministrativeOffenseDataRequest.xsd", route: nil,
             packs: "AM@2026.12.1,BY@2026.12.1,EAEU@2026.12.1,KG@2026.12.1,KZ@2026.12.1,RU@2026.12.1", places: [
            Place(path: "/AdministrativeOffenseDataRequest/OwnerInformation/Document/NumDoc", value: "731946", rule: "eaeu.fts.offender-document"),
            Place(path: "/AdministrativeOffenseDataRequest/OwnerInformation/Document/SerDoc", value: "4516", rule: "eaeu.fts.offender-document"),
        ]),
        Case(fixture: "autobill-driver.xml", schema: "AutoBill.xsd", route: nil,
             packs: "AM@2026.12.1,BY@2026.12.1,EAEU@2026.12.1,KG@2026.12.1,KZ@2026.12.1,RU@2026.12.1", places: [
            Place(path: "/AutoBill/Carrier/Drivers/INN", value: "772814326605", rule: "ru.fts.person-inn"),
            Place(path: "/AutoBill/Carrier/Drivers/DriversLicense/PrDocumentNumber", value: "123456", rule: "eaeu.fts.driving-licence"),
            Place(path: "/AutoBill/Carrier/Drivers/DriversLicense/Series", value: "9912", rule: "eaeu.fts.driving-licence"),
        ]),
        Case(fixture: "eec-goods-declaration-person-kz-ru.xml", schema: "EEC_GoodsDeclaration.xsd", route: Report.Route(from: "KZ", to: "RU"),
             packs: "EAEU@2026.12.1,KZ@2026.12.1,RU@2026.12.1", places: [
            Place(path: "/GoodsDeclaration/DeclarantDetails/PersonId", value: "880311300155", rule: "eaeu.person-id"),
            Place(path: "/GoodsDeclaration/DeclarantDetails/IdentityDocV3Details/DocId", value: "041237896", rule: "eaeu.identity-doc-number"),
            Place(path: "/GoodsDeclaration/GDGoodsShipmentDetails/GDGoodsItemDetails/PresentedDocDetails/DocId", value: "N12345678",
                  rule: "eaeu.named-identity-doc"),
            Place(path: "/GoodsDeclaration/SignatoryPersonV2Details/IdentityDocV3Details/DocSeriesId", value: "N", rule: "eaeu.identity-doc-series"),
            Place(path: "/GoodsDeclaration/SignatoryPersonV2Details/IdentityDocV3Details/DocId", value: "87654321", rule: "eaeu.identity-doc-number"),
        ]),
        Case(fixture: "eec-transit-declaration-carrier-by-ru.xml", schema: "EEC_TransitDeclaration.xsd", route: Report.Route(from: "BY", to: "RU"),
             packs: "BY@2026.12.1,EAEU@2026.12.1,RU@2026.12.1", places: [
            Place(path: "/TransitDeclaration/CarrierDetails/PersonId", value: "3140583A011PB7", rule: "eaeu.person-id"),
            Place(path: "/TransitDeclaration/CarrierDetails/IdentityDocV3Details/DocSeriesId", value: "MP", rule: "eaeu.identity-doc-series"),
            Place(path: "/TransitDeclaration/CarrierDetails/IdentityDocV3Details/DocId", value: "2345678", rule: "eaeu.identity-doc-number"),
        ]),
    ]

    @Test(arguments: cases)
    func everyPersonalDataPlaceIsSanitizedAndTheOutputStaysValid(_ test: Case) throws {
        let album = try Self.albumDirectory()
        let input = try Data(contentsOf: Self.fixtures.appendingPathComponent(test.fixture))
        let run = try RestrictedRun(key: Array("album rules test key".utf8))
        defer { run.remove() }
        #expect(try xmllint(input, schema: album.appendingPathComponent(test.schema), in: run.directory) == nil,
                "the fixture itself must be valid")

        let (result, report) = try filter(input, schemas: [album], run: run)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report.verdict == .sanitized)
        #expect(report.message.route == test.route)
        #expect(report.engine.rules == test.packs)
        #expect(!report.findings.contains { $0.stage == .error || $0.action == .quarantine }, "\(report.findings)")

        let before = try texts(at: test.places.map(\.path), in: input, scratch: run.directory)
        let after = try texts(at: test.places.map(\.path), in: result.stdout, scratch: run.directory)
        for place in test.places {
            #expect(before[place.path] == [place.value], "the fixture holds \(place.value) at \(place.path)")
            let written = try #require(after[place.path]?.first, "\(place) was removed")
            #expect(written != place.value, "\(place) passed unchanged")
            #expect(!written.isEmpty)
            #expect(report.findings.contains { $0.rule == place.rule && $0.part == "xml:\(place.path)" }, "no finding for \(place)")
        }
        #expect(try xmllint(result.stdout, schema: album.appendingPathComponent(test.schema), in: run.directory) == nil,
                "the sanitized document must stay valid")
    }

    @Test func aDeclarationCarriedInAContainerIsRoutedAndSanitizedInside() throws {
        let album = try Self.albumDirectory()
        let input = try Data(contentsOf: Self.fixtures.appendingPathComponent("ed-container-esadout-cu.xml"))
        let run = try RestrictedRun(key: Array("album rules test key".utf8))
        defer { run.remove() }
        #expect(try xmllint(input, schema: album.appendingPathComponent("ED_Container.xsd"), in: run.directory) == nil)
        let (result, report) = try filter(input, schemas: [album], run: run)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report.verdict == .sanitized)
        #expect(report.message.route == Report.Route(from: "KZ", to: "RU"))
        let declaration = try #require(Self.cases.first { $0.fixture == "esadout-cu-person-kz-ru.xml" })
        for place in declaration.places {
            let part = "xml:/ED_Container/ContainerDoc/DocBody" + place.path
            #expect(report.findings.contains { $0.rule == place.rule && $0.part == part }, "no finding for \(place)")
            #expect(!contains(result.stdout, ">\(place.value)<"), "\(place) passed unchanged")
        }
        // The carried declaration, taken out of the sanitized container, is still valid on its own.
        let output = String(decoding: result.stdout, as: UTF8.self)
        let start = try #require(output.range(of: "<ESADout_CU:ESADout_CU "))
        let end = try #require(output.range(of: "</ESADout_CU:ESADout_CU>"))
        let carried = Data(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + output[start.lowerBound..<end.upperBound]).utf8)
        #expect(try xmllint(carried, schema: album.appendingPathComponent("ESADout_CU.xsd"), in: run.directory) == nil)
        #expect(try xmllint(result.stdout, schema: album.appendingPathComponent("ED_Container.xsd"), in: run.directory) == nil)
    }

    /// Places of the EEC data model that none of the album's four EEC documents reaches
    /// (rules/README.md, ◇): a probe document in the album's namespaces carries them. It has no
    /// agreed schema, so it is held; the report still shows each element rule at its place.
    @Test func dataModelPlacesNoAlbumDocumentCarriesAreSelected() throws {
        let probe = """
            <?xml version="1.0" encoding="UTF-8"?>
            <cacdo:Probe xmlns:csdo="urn:EEC:M:SimpleDataObjects:v0.4.14" xmlns:ccdo="urn:EEC:M:ComplexDataObjects:v0.4.14" \
            xmlns:cacdo="urn:EEC:M:CA:ComplexDataObjects:v1.8.4">
              <cacdo:SignatoryPersonIdentityDetails><csdo:DocSeriesId>4510</csdo:DocSeriesId><csdo:DocId>918273</csdo:DocId></cacdo:SignatoryPersonIdentityDetails>
              <ccdo:UnifiedIdentityDocDetails><csdo:DocSeriesId>AN</csdo:DocSeriesId><csdo:DocId>0456123</csdo:DocId></ccdo:UnifiedIdentityDocDetails>
              <ccdo:IdentityDocDetails><csdo:IdentityDocSeriesId>ID</csdo:IdentityDocSeriesId><csdo:IdentityDocNumberId>1234567</csdo:IdentityDocNumberId></ccdo:IdentityDocDetails>
              <cacdo:OtherDocDetails><csdo:IdentityDocKindCode>RU01001</csdo:IdentityDocKindCode><csdo:DocSeriesId>4609</csdo:DocSeriesId><csdo:DocId>564738</csdo:DocId></cacdo:OtherDocDetails>
              <cacdo:ContractDetails><csdo:DocKindCode>03011</csdo:DocKindCode><csdo:DocId>K-2026/17</csdo:DocId></cacdo:ContractDetails>
            </cacdo:Probe>
            """
        let run = try RestrictedRun()
        defer { run.remove() }
        let file = run.directory.appendingPathComponent("probe.xml")
        try Data(probe.utf8).write(to: file)
        let result = try run(["scan"], ["--format", "ndjson", file.path])
        let report = try #require(try result.reports().first)
        #expect(report.verdict == .quarantined)
        #expect(report.findings.contains { $0.rule == "schema.unknown-namespace" })
        let selected = Set(report.findings.filter { $0.stage == .restricted && $0.rule.hasPrefix("eaeu.") }.map { "\($0.rule) \($0.part)" })
        #expect(selected == [
            "eaeu.signatory-identity-doc xml:/Probe/SignatoryPersonIdentityDetails/DocSeriesId",
            "eaeu.signatory-identity-doc xml:/Probe/SignatoryPersonIdentityDetails/DocId",
            "eaeu.unified-identity-doc xml:/Probe/UnifiedIdentityDocDetails/DocSeriesId",
            "eaeu.unified-identity-doc xml:/Probe/UnifiedIdentityDocDetails/DocId",
            "eaeu.identity-doc-v1 xml:/Probe/IdentityDocDetails/IdentityDocSeriesId",
            "eaeu.identity-doc-v1 xml:/Probe/IdentityDocDetails/IdentityDocNumberId",
            "eaeu.kind-coded-identity-doc xml:/Probe/OtherDocDetails/DocSeriesId",
            "eaeu.kind-coded-identity-doc xml:/Probe/OtherDocDetails/DocId",
        ], "a contract's number is no identity document")
    }

    // MARK: - Routes

    @Test func aMalformedNamespacePatternInARouteIsAStartUpError() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let config = run.directory.appendingPathComponent("routes.yaml")
        try """
            rules:
              routes:
                - namespace: "urn:customs.ru:*:5.23.0"
                  prefixes: {e: "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:*"}
                  from: /e:ESADout_CU/e:From
                  to: /e:ESADout_CU/e:To
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try kordon(["filter", "--config", config.path], stdin: Data("<a/>".utf8))
        #expect(result.status == 2)
        #expect(result.stderr.contains("rules.routes.namespace"), "\(result.stderr)")
        #expect(result.stderr.contains("puts a wildcard where none may stand"), "\(result.stderr)")
    }

    @Test func declarationWithoutItsHeaderCountriesIsRoutedByDispatchAndDestination() throws {
        let album = try Self.albumDirectory()
        let run = try RestrictedRun()
        defer { run.remove() }
        var text = try String(contentsOf: Self.fixtures.appendingPathComponent("esadout-cu-person-kz-ru.xml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "<RUScat_ru:SourceCountryCode>KZ</RUScat_ru:SourceCountryCode>", with: "")
            .replacingOccurrences(of: "<RUScat_ru:DestinationCountryCode>RU</RUScat_ru:DestinationCountryCode>", with: "")
            .replacingOccurrences(of: "<catESAD_cu:DispatchCountryCode>KZ</catESAD_cu:DispatchCountryCode>",
                                  with: "<catESAD_cu:DispatchCountryCode>BY</catESAD_cu:DispatchCountryCode>")
        let withConsignment = Data(text.utf8)
        #expect(try xmllint(withConsignment, schema: album.appendingPathComponent("ESADout_CU.xsd"), in: run.directory) == nil)
        #expect(try filter(withConsignment, schemas: [album], run: run).1.message.route == Report.Route(from: "BY", to: "RU"))

        // No destination country either: the country of the customs office it is lodged with.
        let withRecipient = Data(text.replacingOccurrences(of: "<catESAD_cu:DestinationCountryCode>RU</catESAD_cu:DestinationCountryCode>",
                                                           with: "").replacingOccurrences(of: "<ESADout_CU:RecipientCountryCode>RU<",
                                                                                          with: "<ESADout_CU:RecipientCountryCode>AM<").utf8)
        #expect(try xmllint(withRecipient, schema: album.appendingPathComponent("ESADout_CU.xsd"), in: run.directory) == nil)
        let report = try filter(withRecipient, schemas: [album], run: run).1
        #expect(report.message.route == Report.Route(from: "BY", to: "AM"))
        #expect(report.engine.rules == "AM@2026.12.1,BY@2026.12.1,EAEU@2026.12.1")
    }

    // MARK: - Another album version

    /// The next album edition renames every namespace's version. The same packs and route
    /// readers must apply to it with no edit: the schemas of the fixture's format are copied
    /// to a scratch directory with their versions changed, and the document with them.
    @Test(arguments: [
        ("esadout-cu-person-kz-ru.xml", "ESADout_CU.xsd",
         [("CommonAggregateTypes:5.22.0", "CommonAggregateTypes:5.31.2"), ("RUSCommonAggregateTypes:5.22.0", "RUSCommonAggregateTypes:5.31.2"),
          ("RUDeclCommonAggregateTypesCust:5.23.0", "RUDeclCommonAggregateTypesCust:5.31.0"),
          ("ESADout_CU:5.23.0", "ESADout_CU:5.31.0"), ("CUESADCommonAggregateTypesCust:5.22.0", "CUESADCommonAggregateTypesCust:5.31.0")]),
        ("eec-goods-declaration-person-kz-ru.xml", "EEC_GoodsDeclaration.xsd",
         [("SimpleDataObjects:v0.4.14", "SimpleDataObjects:v0.4.20"), ("ComplexDataObjects:v0.4.14", "ComplexDataObjects:v0.4.20"),
          ("SimpleDataObjects:v1.8.1", "SimpleDataObjects:v1.10.3"), ("ComplexDataObjects:v1.8.1", "ComplexDataObjects:v1.10.3"),
          ("GoodsDeclaration:v1.0.0", "GoodsDeclaration:v1.1.0"), ("BaseDataTypes:v0.4.14", "BaseDataTypes:v0.4.20")]),
    ])
    func aNewAlbumVersionNeedsNoPackEdit(_ fixture: String, _ schema: String, _ versions: [(String, String)]) throws {
        let album = try Self.albumDirectory()
        let run = try RestrictedRun()
        defer { run.remove() }
        let schemas = run.directory.appendingPathComponent("next-album")
        try FileManager.default.createDirectory(at: schemas, withIntermediateDirectories: true)
        func renamed(_ text: String) -> String {
            versions.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        for file in try schemaClosure(of: schema, in: album) {
            let text = try String(contentsOf: album.appendingPathComponent(file), encoding: .utf8)
            try renamed(text).write(to: schemas.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let original = try String(contentsOf: Self.fixtures.appendingPathComponent(fixture), encoding: .utf8)
        let document = Data(renamed(original).utf8)
        #expect(renamed(original) != original)
        #expect(try xmllint(document, schema: schemas.appendingPathComponent(schema), in: run.directory) == nil)

        let (result, report) = try filter(document, schemas: [schemas], run: run)
        let expected = try #require(Self.cases.first { $0.fixture == fixture })
        #expect(report.verdict == .sanitized)
        #expect(report.message.route == expected.route)
        #expect(Set(report.findings.map(\.rule)) == Set(expected.places.map(\.rule)))
        for place in expected.places {
            #expect(!contains(result.stdout, ">\(place.value)<"), "\(place) passed unchanged")
        }
        #expect(try xmllint(result.stdout, schema: schemas.appendingPathComponent(schema), in: run.directory) == nil)
    }

    // MARK: - Helpers

    /// `kordon filter --schemas …` of `input`, reading the route from the document.
    private func filter(_ input: Data, schemas: [URL], run: RestrictedRun) throws -> (CommandResult, Report) {
        let reportFile = run.directory.appendingPathComponent("report-\(UUID().uuidString).json")
        let arguments = schemas.flatMap { ["--schemas", $0.path] } + ["--report", reportFile.path]
        let result = try run(["filter"], arguments, stdin: input)
        return (result, try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile)))
    }

    /// `xmllint --schema`: nil when it validates, else what it says.
    private func xmllint(_ data: Data, schema: URL, in directory: URL) throws -> String? {
        let file = directory.appendingPathComponent("doc-\(UUID().uuidString).xml")
        try data.write(to: file)
        let result = try run(URL(fileURLWithPath: "/usr/bin/xmllint"), ["--noout", "--nonet", "--schema", schema.path, file.path])
        return result.status == 0 ? nil : result.stderr
    }

    /// The texts of the elements at each path of local names (no positions), read by Python's ElementTree.
    private func texts(at paths: [String], in document: Data, scratch: URL) throws -> [String: [String]] {
        let file = scratch.appendingPathComponent("texts-\(UUID().uuidString).xml")
        try document.write(to: file)
        let script = """
            import json, sys
            import xml.etree.ElementTree as ET
            wanted = set(json.loads(sys.argv[2])); found = {}
            def walk(node, path):
                path = path + "/" + node.tag.split("}")[-1]
                if path in wanted: found.setdefault(path, []).append(node.text or "")
                for child in node: walk(child, path)
            walk(ET.parse(sys.argv[1]).getroot(), "")
            print(json.dumps(found))
            """
        let pathsJSON = String(decoding: try JSONEncoder().encode(paths), as: UTF8.self)
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, file.path, pathsJSON])
        try #require(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode([String: [String]].self, from: result.stdout)
    }

    /// `schema` and every file it includes or imports, transitively (album file names).
    private func schemaClosure(of schema: String, in album: URL) throws -> [String] {
        var seen: [String] = []
        var queue = [schema]
        let location = try Regex(#"schemaLocation="([^"]+)""#)
        while let file = queue.popLast() {
            guard !seen.contains(file) else { continue }
            seen.append(file)
            let text = try String(contentsOf: album.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: location) {
                if let name = match.output[1].substring.map(String.init), !seen.contains(name) { queue.append(name) }
            }
        }
        return seen
    }
}
