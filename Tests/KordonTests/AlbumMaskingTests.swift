import Foundation
import KordonCore
import KordonTestSupport
import Testing

/// Schema-preserving sanitization on the real album of formats (FTS 5.23.0): a masked,
/// pseudonymized or stripped value stays a value of its element's simple type, so the
/// sanitized document is still valid for `xmllint --schema`; a value no replacement can
/// stand in for holds the message with the reason. Documents in `fixtures/album/masking`
/// were written for these tests and are valid per xmllint.
@Suite(.timeLimit(.minutes(10))) struct AlbumMaskingTests {
    static let fixtures = repositoryRoot.appendingPathComponent("fixtures/album/masking")
    static let reqOpenProc = "ReqOpenProc.xsd"

    /// The album; it must be there (CI has it), so a missing album fails the suite.
    private func album() throws -> URL {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/formats/fts-5.23.0")
        try #require(FileManager.default.fileExists(atPath: url.appendingPathComponent(Self.reqOpenProc).path),
                     "the album of formats is not at \(url.path)")
        return url
    }

    /// `kordon filter` of a fixture with the whole album as agreed schemas.
    private func filter(_ fixture: String, route: (String, String), rules: URL? = nil,
                        run: RestrictedRun) throws -> (CommandResult, Report) {
        let reportFile = run.directory.appendingPathComponent("report-\(UUID().uuidString).json")
        var arguments = ["--schemas", try album().path, "--from", route.0, "--to", route.1, "--report", reportFile.path]
        if let rules { arguments += ["--rules", rules.path] }
        let input = try Data(contentsOf: Self.fixtures.appendingPathComponent(fixture))
        let result = try run(["filter"], arguments, stdin: input)
        return (result, try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile)))
    }

    /// Whether `xmllint --schema` of the album accepts `document`.
    private func xmllintAccepts(_ document: Data, schema: String, in directory: URL) throws -> Bool {
        let file = directory.appendingPathComponent("sanitized-\(UUID().uuidString).xml")
        try document.write(to: file)
        let result = try run(URL(fileURLWithPath: "/usr/bin/xmllint"),
                             ["--noout", "--nonet", "--schema", try album().appendingPathComponent(schema).path, file.path])
        return result.status == 0
    }

    /// The text of the first element with this local name.
    private func text(of localName: String, in document: Data) -> String? {
        let xml = String(decoding: document, as: UTF8.self)
        guard let open = xml.range(of: ":\(localName)>"), let close = xml.range(of: "</", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    /// The IIN/BIN check digit of Kazakhstan (weights 1…11, then 3…11,1,2 when 10).
    private func kazakhCheckPasses(_ value: String) -> Bool {
        let d = value.compactMap(\.wholeNumberValue)
        guard d.count == 12 else { return false }
        var sum = zip(d, 1...11).reduce(0) { $0 + $1.0 * $1.1 } % 11
        if sum == 10 { sum = zip(d, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]).reduce(0) { $0 + $1.0 * $1.1 } % 11 }
        return sum != 10 && sum == d[11]
    }

    /// Writes a rule pack of element rules over ReqOpenProc into a fresh directory.
    private func pack(_ rules: [(id: String, select: String, action: String)], in run: RestrictedRun) throws -> URL {
        let directory = run.directory.appendingPathComponent("packs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var yaml = """
            pack: MASKTEST
            version: 1.0.0
            title: Schema-typed places (tests)
            legalBasis:
              - none (test pack)
            categories: [personal-data]
            uneditable:
              personal-data: quarantine
            namespaces:
              rodp:
                - urn:customs.ru:Information:ExchangeDocuments:ReqOpenProc:5.22.0
              cat_ru:
                - urn:customs.ru:CommonAggregateTypes:5.22.0
            elementRules:

            """
        for rule in rules {
            yaml += "  - id: \(rule.id)\n    select: \(rule.select)\n    action: \(rule.action)\n    category: personal-data\n"
        }
        try yaml.write(to: directory.appendingPathComponent("MASKTEST.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test func aMaskedIINStaysTwelveDigitsThatFailTheChecksumAndTheDocumentStaysValid() throws {
        let run = try RestrictedRun(key: Array("album masking key".utf8))
        defer { run.remove() }
        let (result, report) = try filter("reqopenproc-kz-declarant.xml", route: ("KZ", "RU"), run: run)
        #expect(result.status == 0, "\(report.findings)")
        #expect(report.verdict == .sanitized)
        #expect(try xmllintAccepts(result.stdout, schema: Self.reqOpenProc, in: run.directory))
        // cat_ru:IIN (element rule) and cat_ru:BIN holding a sole proprietor's IIN (detector): both \d{12}.
        for (element, original) in [("IIN", "850315310006"), ("BIN", "910624420003")] {
            let masked = try #require(text(of: element, in: result.stdout))
            #expect(masked.count == 12 && masked.allSatisfy(\.isASCII) && masked.allSatisfy(\.isNumber), "\(element): \(masked)")
            #expect(masked.prefix(4) == original.prefix(4) && masked.suffix(4) == original.suffix(4), "\(element): \(masked)")
            #expect(masked != original && !kazakhCheckPasses(masked), "\(element): \(masked) passes the IIN check")
            #expect(!contains(result.stdout, original))
        }
        let iin = try #require(report.findings.first { $0.part.hasSuffix("/IIN") })
        #expect(iin.action == .mask && iin.detail.contains("IINType") && iin.detail.contains(#"\d{12}"#))
        // Where the usual mask fits (INNSign: a token of 10-12 characters), it is the usual mask.
        #expect(text(of: "INNSign", in: result.stdout) == "7707••••9324")
        let reportText = try String(decoding: JSONEncoder().encode(report), as: UTF8.self)
        for value in ["850315310006", "910624420003", "770708389324"] { #expect(!reportText.contains(value)) }
    }

    @Test func aKyrgyzPersonalNumberStaysFourteenDigits() throws {
        let run = try RestrictedRun(key: Array("album masking key".utf8))
        defer { run.remove() }
        let (result, report) = try filter("reqopenproc-kg-principal.xml", route: ("KG", "RU"), run: run)
        #expect(result.status == 0 && report.verdict == .sanitized, "\(report.findings)")
        let masked = try #require(text(of: "KGINN", in: result.stdout))
        #expect(masked.count == 14 && masked.allSatisfy(\.isNumber) && masked != "21405198300123", "\(masked)")
        #expect(try xmllintAccepts(result.stdout, schema: Self.reqOpenProc, in: run.directory))
        #expect(!contains(result.stdout, "21405198300123"))
    }

    @Test func anEECPersonIdPseudonymStaysAnIINShapedValueThatFailsTheChecksum() throws {
        let run = try RestrictedRun(key: Array("album masking key".utf8))
        defer { run.remove() }
        let (result, report) = try filter("eec-transit-carrier-kz-ru.xml", route: ("KZ", "RU"), run: run)
        #expect(result.status == 0 && report.verdict == .sanitized, "\(report.findings)")
        #expect(try xmllintAccepts(result.stdout, schema: "EEC_TransitDeclaration.xsd", in: run.directory))
        // casdo:PersonId (a token of 1-20 characters, through bdt:IdentifierType) holding an IIN.
        let token = try #require(text(of: "PersonId", in: result.stdout))
        #expect(token.count == 12 && token.allSatisfy(\.isNumber) && token != "880716351009", "\(token)")
        #expect(!kazakhCheckPasses(token), "\(token) passes the IIN check")
        #expect(report.findings.contains { $0.rule == "eaeu.person-id" && $0.action == .pseudonymize })
        #expect(text(of: "DocId", in: result.stdout) == "043•••265")
        #expect(!contains(result.stdout, "880716351009") && !contains(result.stdout, "043817265"))
    }

    @Test func aPseudonymInAPatternTypedElementFitsThePattern() throws {
        let run = try RestrictedRun(key: Array("album masking key".utf8))
        defer { run.remove() }
        let rules = try pack([("masktest.iin", "//cat_ru:IIN", "pseudonymize")], in: run)
        let (result, report) = try filter("reqopenproc-kz-declarant.xml", route: ("KZ", "RU"), rules: rules, run: run)
        #expect(result.status == 0 && report.verdict == .sanitized, "\(report.findings)")
        #expect(try xmllintAccepts(result.stdout, schema: Self.reqOpenProc, in: run.directory))
        let token = try #require(text(of: "IIN", in: result.stdout))
        #expect(token.count == 12 && token.allSatisfy(\.isNumber) && !kazakhCheckPasses(token), "\(token)")
        // Keyed and stable: the same document gives the same pseudonym.
        let (again, _) = try filter("reqopenproc-kz-declarant.xml", route: ("KZ", "RU"), rules: rules, run: run)
        #expect(text(of: "IIN", in: again.stdout) == token)
    }

    @Test func aStrippedRequiredElementStaysWithNothingOfItsValue() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        let rules = try pack([("masktest.participant", "//rodp:Principal/rodp:ParticipantID", "strip"),
                              ("masktest.kind", "//rodp:Principal/rodp:TypePrincipal", "strip"),
                              ("masktest.name", "//rodp:Principal/cat_ru:OrganizationName", "strip")], in: run)
        let (result, report) = try filter("reqopenproc-kz-declarant.xml", route: ("KZ", "RU"), rules: rules, run: run)
        #expect(result.status == 0 && report.verdict == .sanitized, "\(report.findings)")
        #expect(try xmllintAccepts(result.stdout, schema: Self.reqOpenProc, in: run.directory))
        // Required, a token of 1-36 characters: every letter and digit hidden.
        #expect(text(of: "ParticipantID", in: result.stdout) == "••-••••-••••••")
        // Required, a one-digit number: a digit other than the original.
        #expect(text(of: "TypePrincipal", in: result.stdout) == "0")
        // Optional: removed, as before.
        #expect(!contains(result.stdout, "Жумабаев"))
        #expect(report.findings.first { $0.rule == "masktest.participant" }?.detail.contains("required by the schema") == true)
    }

    @Test func aValueNoReplacementCanStandInForHoldsTheMessageAndSaysWhy() throws {
        let run = try RestrictedRun()
        defer { run.remove() }
        // rodp:Principal/rodp:Principal is an xs:boolean: nothing hides "true" and stays a boolean.
        let rules = try pack([("masktest.flag", "//rodp:Principal/rodp:Principal", "mask")], in: run)
        let (result, report) = try filter("reqopenproc-kz-declarant.xml", route: ("KZ", "RU"), rules: rules, run: run)
        #expect(result.status == 1 && report.verdict == .quarantined)
        #expect(result.stdout.isEmpty)
        let held = try #require(report.findings.first { $0.rule == "masktest.flag" })
        #expect(held.action == .quarantine, "\(held)")
        #expect(held.detail.contains("IndicatorType") && held.detail.contains("xs:boolean"), "\(held.detail)")
        #expect(!held.detail.contains("true"))
        // Held for the reason above, not as a document that no longer validates.
        #expect(!report.findings.contains { $0.rule == "restricted.revalidation" })
    }
}
