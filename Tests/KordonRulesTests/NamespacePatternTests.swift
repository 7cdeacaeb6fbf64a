import Foundation
import KordonCore
import Testing
@testable import KordonRules

/// Namespaces in packs match album versions without an edit per version: `…:*` is any
/// version, `…:**` every namespace below a stem; a malformed wildcard is a load error.
@Suite(.timeLimit(.minutes(10))) struct NamespacePatternTests {
    @Test func versionWildcardMatchesEveryVersionOfOneNamespace() throws {
        let common = try NamespacePattern.parse("urn:customs.ru:CommonAggregateTypes:*")
        #expect(common.matches("urn:customs.ru:CommonAggregateTypes:5.22.0"))
        #expect(common.matches("urn:customs.ru:CommonAggregateTypes:5.24.1"))
        #expect(common.matches("urn:customs.ru:CommonAggregateTypes:6"))
        #expect(!common.matches("urn:customs.ru:CommonAggregateTypesCust:5.22.0"))
        #expect(!common.matches("urn:customs.ru:CommonAggregateTypes:"))
        #expect(!common.matches("urn:customs.ru:CommonAggregateTypes:5.22.0:extra"))
        #expect(!common.matches("urn:customs.ru:CommonAggregateTypes:5..22"))
        #expect(!common.matches("urn:customs.ru:CommonAggregateTypes:5.22."))
        let eec = try NamespacePattern.parse("urn:EEC:M:SimpleDataObjects:v*")
        #expect(eec.matches("urn:EEC:M:SimpleDataObjects:v0.4.14"))
        #expect(eec.matches("urn:EEC:M:SimpleDataObjects:v0.4.6"))
        #expect(!eec.matches("urn:EEC:M:SimpleDataObjects:0.4.14"))
        #expect(!eec.matches("urn:EEC:M:CA:SimpleDataObjects:v1.8.1"))
    }

    @Test func familyMatchesEveryNamespaceBelowItsStem() throws {
        let fts = try NamespacePattern.parse("urn:customs.ru:**")
        #expect(fts.matches("urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0"))
        #expect(fts.matches("urn:customs.ru:RUSCommonAggregateTypes:5.22.0"))
        #expect(!fts.matches("urn:customs.ru:"))
        #expect(!fts.matches("urn:EEC:M:SimpleDataObjects:v0.4.14"))
        #expect(try NamespacePattern.parse("urn:customs.ru:CommonAggregateTypes:5.22.0").matches("urn:customs.ru:CommonAggregateTypes:5.22.0"))
    }

    @Test(arguments: ["urn:customs.ru:*:5.22.0", "urn:customs.ru:Common*", "urn:**", "**", "*", ":*",
                      "urn:customs.ru:*:*", "urn:customs.ru:***", "urn:customs ru:*"])
    func malformedWildcardsAreRefused(_ text: String) {
        #expect(throws: NamespacePatternError.self) { try NamespacePattern.parse(text) }
    }

    @Test func expansionBindsAPatternToTheVersionsADocumentDeclares() {
        let declared: Set = ["urn:customs.ru:CommonAggregateTypes:5.22.0", "urn:customs.ru:RUSCommonAggregateTypes:5.22.0",
                             "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:5.23.0"]
        let expanded = NamespacePattern.expand([
            "cat_ru": ["urn:customs.ru:CommonAggregateTypes:*"],
            "fts": ["urn:customs.ru:**"],
            "csdo": ["urn:EEC:M:SimpleDataObjects:v*", "urn:kordon:sample:EEC:M:SimpleDataObjects:v1.0"],
            "x": ["urn:exact"],
        ], declared: declared)
        #expect(expanded["cat_ru"] == ["urn:customs.ru:CommonAggregateTypes:5.22.0"])
        #expect(expanded["fts"] == declared.sorted())
        // Nothing declared: the entries stay as written and select nothing.
        #expect(expanded["csdo"] == ["urn:EEC:M:SimpleDataObjects:v*", "urn:kordon:sample:EEC:M:SimpleDataObjects:v1.0"])
        #expect(expanded["x"] == ["urn:exact"])
    }

    // MARK: - Packs

    private func pack(namespace: String, select: String = "//p:Id") -> String {
        """
        pack: XX
        version: 1.0.0
        title: Test pack
        legalBasis: [A test law]
        categories: [personal-data]
        uneditable:
          personal-data: quarantine
        namespaces:
          p: ["\(namespace)"]
          q: ["urn:customs.ru:**"]
        elementRules:
          - id: xx.id
            select: \(select)
            action: mask
            category: personal-data
        """
    }

    @Test func packWithVersionWildcardsLoads() throws {
        let packs = try TemporaryPacks(["XX.yaml": pack(namespace: "urn:customs.ru:CommonAggregateTypes:*")])
        let rule = try #require(try PackLoader.load(URL(fileURLWithPath: packs.path("XX.yaml"))).elementRules.first)
        #expect(rule.namespaces == ["p": ["urn:customs.ru:CommonAggregateTypes:*"]])
    }

    @Test func malformedWildcardInAPackIsALoadErrorNamingTheLineAndTheForms() throws {
        let packs = try TemporaryPacks(["XX.yaml": pack(namespace: "urn:customs.ru:*:5.22.0")])
        let error = try #require(throws: KordonError.self) {
            try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        }
        #expect(error.code == "rules.pack.invalid")
        #expect(error.message.contains("\(packs.path("XX.yaml")):9:"), "\(error.message)")
        #expect(error.message.contains("namespaces.p[0]"))
        #expect(error.message.contains("`urn:customs.ru:*:5.22.0` puts a wildcard where none may stand"))
        #expect(error.message.contains("`…:*` for any version"))
        #expect(error.message.contains("`…:**` for every namespace below a stem"))
    }

    @Test func twoFamiliesInOneSelectionAreRefused() throws {
        let packs = try TemporaryPacks(["XX.yaml": pack(namespace: "urn:customs.ru:**", select: "//p:Id/q:Number")])
        let error = try #require(throws: KordonError.self) {
            try RuleLibrary.load(directories: [packs.url], pseudonymKey: nil)
        }
        #expect(error.message.contains("more than one namespace family"), "\(error.message)")
    }

    @Test func shippedPacksNameTheAlbumsNamespaces() throws {
        let russia = try PackLoader.load(Fixtures.rulesDirectory.appendingPathComponent("RU.yaml"))
        let common = try #require(russia.namespaces["cat_ru"]).map { try NamespacePattern.parse($0) }
        #expect(common.contains { $0.matches("urn:customs.ru:CommonAggregateTypes:5.22.0") })
        let union = try PackLoader.load(Fixtures.rulesDirectory.appendingPathComponent("EAEU.yaml"))
        for (prefix, album) in [("csdo", "urn:EEC:M:SimpleDataObjects:v0.4.14"), ("ccdo", "urn:EEC:M:ComplexDataObjects:v0.4.14"),
                                ("casdo", "urn:EEC:M:CA:SimpleDataObjects:v1.8.1"), ("cacdo", "urn:EEC:M:CA:ComplexDataObjects:v1.8.4")] {
            let patterns = try #require(union.namespaces[prefix]).map { try NamespacePattern.parse($0) }
            #expect(patterns.contains { $0.matches(album) }, "\(prefix)")
        }
    }
}
