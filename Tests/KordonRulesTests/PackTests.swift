import Foundation
import KordonCore
import Testing
@testable import KordonRules

/// The shipped packs load; broken packs fail naming the file and the line.
@Suite(.timeLimit(.minutes(10))) struct PackTests {
    @Test(arguments: ["AM", "BY", "EAEU", "KG", "KZ", "RU"])
    func shippedPackLoads(_ id: String) throws {
        let pack = try PackLoader.load(Fixtures.rulesDirectory.appendingPathComponent("\(id).yaml"))
        #expect(pack.id == id)
        #expect(!pack.version.isEmpty)
        #expect(!pack.legalBasis.isEmpty)
        #expect(!pack.categories.isEmpty)
        #expect(pack.categories.allSatisfy { pack.uneditable[$0] != nil })
        #expect(!pack.markings.isEmpty)
        #expect(pack.detectors.allSatisfy { $0.id.hasPrefix(id.lowercased() + ".") })
    }

    @Test func libraryListsEveryPack() throws {
        let library = try Fixtures.library()
        #expect(library.packs.map(\.id) == ["AM", "BY", "EAEU", "KG", "KZ", "RU"])
        let kazakhstan = try #require(library.packs.first { $0.id == "KZ" })
        #expect(kazakhstan.legalBasis.contains("94-V"))
        #expect(kazakhstan.detectors.contains { $0.id == "kz.iin" && $0.category == .personalData && $0.action == .mask })
        #expect(kazakhstan.detectors.contains { $0.id == "kz.bin" && $0.category == .publicRegistry && $0.action == .report })
        #expect(kazakhstan.markings.contains { $0.id == "kz.marking.kbp" && $0.phrases == ["ҚБП"] })
        #expect(kazakhstan.source.lastPathComponent == "KZ.yaml")
    }

    @Test func sampleSchemaPolicyIsInTheEAEUPack() throws {
        let rules = try Fixtures.library().packs.first { $0.id == "EAEU" }?.elementRules ?? []
        let byPath = Dictionary(uniqueKeysWithValues: rules.map { ($0.xpath, $0) })
        #expect(byPath["//csdo:TaxpayerId"]?.action == .keep)
        #expect(byPath["//casdo:PersonId"]?.action == .pseudonymize)
        #expect(byPath["//ccdo:IdentityDocV3Details/csdo:DocId"]?.action == .mask)
        #expect(byPath["//ccdo:IdentityDocV3Details/csdo:DocSeriesId"]?.action == .mask)
        let personID = try #require(byPath["//casdo:PersonId"])
        #expect(Array(personID.namespaces.keys) == ["casdo"])
        #expect(personID.namespaces["casdo"]?.contains("urn:EEC:M:CA:SimpleDataObjects:v*") == true)
        #expect(personID.namespaces["casdo"]?.contains("urn:kordon:sample:EEC:M:CA:SimpleDataObjects:v1.0") == true)
        let documentNumber = try #require(byPath["//ccdo:IdentityDocV3Details/csdo:DocId"])
        #expect(Set(documentNumber.namespaces.keys) == ["ccdo", "csdo"])
    }

    @Test func routesChooseTheirPacks() throws {
        let library = try Fixtures.library()
        #expect(library.packIDs(from: "KZ", to: "RU") == ["EAEU", "KZ", "RU"])
        #expect(library.packIDs(from: "by", to: "am") == ["AM", "BY", "EAEU"])
        #expect(library.packIDs(from: "KG", to: "KG") == ["EAEU", "KG"])
        let all = ["AM", "BY", "EAEU", "KG", "KZ", "RU"]
        #expect(library.packIDs(from: nil, to: "RU") == all)
        #expect(library.packIDs(from: "KZ", to: nil) == all)
        #expect(library.packIDs(from: "US", to: "RU") == all)
    }

    @Test func ruleSetsAreCompiledOncePerPackSet() throws {
        let library = try Fixtures.library()
        let one = try library.ruleSet(for: ["KZ", "EAEU", "RU"])
        let other = try library.ruleSet(for: ["RU", "KZ", "EAEU", "KZ"])
        #expect(one === other)
        #expect(one.description == "EAEU@2026.12.1,KZ@2026.12.1,RU@2026.12.1")
        #expect(one.packIDs == ["EAEU", "KZ", "RU"])
        #expect(one.elementRules.contains { $0.id == "eaeu.person-id" })
        #expect(throws: KordonError.self) { try library.ruleSet(for: ["XX"]) }
    }

    // MARK: - Broken packs

    /// Loads `text` as `XX.yaml` and returns the error message, which must name the file and `line`.
    private func failure(_ text: String, line: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let packs = try TemporaryPacks(["XX.yaml": text])
        let error = try #require(throws: KordonError.self, sourceLocation: sourceLocation) {
            try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        }
        #expect(error.code == "rules.pack.invalid", sourceLocation: sourceLocation)
        #expect(error.message.contains("\(packs.path("XX.yaml")):\(line):"), "\(error.message)", sourceLocation: sourceLocation)
        return error.message
    }

    private func replacing(_ old: String, with new: String) -> String {
        TemporaryPacks.minimal.replacingOccurrences(of: old, with: new)
    }

    @Test func theMinimalPackLoads() throws {
        let packs = try TemporaryPacks(["XX.yaml": TemporaryPacks.minimal])
        let library = try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        #expect(library.packs.map(\.id) == ["XX"])
    }

    @Test func badYAMLNamesTheLine() throws {
        _ = try failure(replacing("    pattern: '[0-9]{12}'", with: "    pattern: '[0-9]{12}"), line: 12)
    }

    @Test func unknownKeyNamesTheLine() throws {
        let message = try failure(replacing("    validator: kz.iin", with: "    validator: kz.iin\n    contxt: [ИИН]"), line: 14)
        #expect(message.contains("contxt"))
    }

    @Test func unknownValidatorNamesTheLine() throws {
        let message = try failure(replacing("validator: kz.iin", with: "validator: kz.inn"), line: 13)
        #expect(message.contains("kz.inn"))
    }

    @Test func patternHyperscanRejectsNamesTheLineAndHyperscansReason() throws {
        let message = try failure(replacing("pattern: '[0-9]{12}'", with: "pattern: '[0-9{12}'"), line: 12)
        #expect(message.contains("Hyperscan"))
    }

    @Test func unboundedPatternIsRefused() throws {
        _ = try failure(replacing("pattern: '[0-9]{12}'", with: "pattern: '[0-9]+'"), line: 12)
    }

    @Test func nonASCIIInsideAClassIsRefused() throws {
        let message = try failure(replacing("pattern: '[0-9]{12}'", with: "pattern: '[АВ][0-9]{8}'"), line: 12)
        #expect(message.contains("(?:А|В)"))
    }

    @Test func anchoredPatternIsRefused() throws {
        let message = try failure(replacing("pattern: '[0-9]{12}'", with: "pattern: '^[0-9]{12}$'"), line: 12)
        #expect(message.contains("anchor"))
    }

    @Test func undeclaredCategoryIsRefused() throws {
        _ = try failure(replacing("    category: state-secret\n    phrases", with: "    category: commercial-secret\n    phrases"), line: 16)
    }

    @Test func undeclaredPrefixIsRefused() throws {
        let message = try failure(replacing("select: //t:Id", with: "select: //u:Id"), line: 22)
        #expect(message.contains("`u`"))
    }

    @Test func duplicateIdInsideAPackIsRefused() throws {
        _ = try failure(replacing("  - id: xx.marking.secret", with: "  - id: xx.iin"), line: 15)
    }

    @Test func ruleIdOfAnotherPackIsRefused() throws {
        // Rule ids start with their pack's id, so two packs can never share one.
        let message = try failure(replacing("  - id: xx.marking.secret", with: "  - id: kz.marking.secret"), line: 15)
        #expect(message.contains("`xx.`"))
    }

    @Test func samePackInTwoFilesNamesBothFiles() throws {
        let packs = try TemporaryPacks(["XX.yaml": TemporaryPacks.minimal, "XX-copy.yaml": "# a copy\n" + TemporaryPacks.minimal])
        let error = try #require(throws: KordonError.self) {
            try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        }
        #expect(error.code == "rules.pack.invalid")
        #expect(error.message.contains("\(packs.path("XX.yaml")):1:"), "\(error.message)")
        #expect(error.message.contains("\(packs.path("XX-copy.yaml")):2"), "\(error.message)")
    }

    @Test func missingRequiredKeyIsRefused() throws {
        let message = try failure(replacing("legalBasis: [A test law]\n", with: ""), line: 1)
        #expect(message.contains("legalBasis"))
    }
}
