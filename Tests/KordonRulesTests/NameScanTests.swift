import Testing
@testable import KordonRules

/// ``RuleSet/scanName(_:)`` and ``RuleSet/maskedName(_:)``: identifiers in names and in
/// report strings, which have no spaces between a label and a value.
@Suite("detectors over names", .timeLimit(.minutes(10)))
struct NameScanTests {
    @Test("a number glued to ASCII letters is found in a name, not in text; its masked form comes from the name")
    func gluedDigits() throws {
        let rules = try Fixtures.allRules()
        #expect(rules.scan(Array("a061211600012".utf8)).isEmpty, "in prose a letter touching a number makes a word")
        let found = rules.scanName(Array("a061211600012".utf8))
        #expect(found.map(\.ruleID) == ["kz.iin"])
        #expect(found.first?.range == 1..<13 && found.first?.masked == "0612••••0012")
        #expect(rules.scanName(Array("IIN061211600012x".utf8)).map(\.ruleID) == ["kz.iin"])
        #expect(rules.scanName(Array("a061211600013".utf8)).isEmpty, "a wrong check digit is no IIN")
        #expect(rules.scanName(Array("GoodsItemDetails".utf8)).isEmpty)
    }

    @Test("the name supplies context words: a 10-digit RU INN glued to INN is found, the same digits alone are not")
    func nameAsContext() throws {
        let rules = try Fixtures.allRules()
        #expect(rules.scanName(Array("INN7707083893".utf8)).map(\.ruleID).contains("ru.inn-organization"))
        #expect(!rules.scanName(Array("x7707083893".utf8)).map(\.ruleID).contains("ru.inn-organization"))
    }

    @Test("maskedName masks personal identifiers only, the same value the same way; organization numbers and markings stay")
    func maskedName() throws {
        let rules = try Fixtures.allRules()
        #expect(rules.maskedName("xml:/Root/IIN_061211600012/a061211600012[2]")
                == "xml:/Root/IIN_0612••••0012/a0612••••0012[2]")
        #expect(rules.maskedName("line 3: Element '{urn:person:061211600012}Name': not expected")
                == "line 3: Element '{urn:person:0612••••0012}Name': not expected")
        #expect(rules.maskedName("xml:/Root/BIN_940140000385") == nil, "a BIN is public registry data")
        #expect(rules.maskedName("xml:/Root/Секретно") == nil, "a marking is no one's value")
        #expect(rules.maskedName("xml:/GoodsDeclaration/GoodsItemDetails[12]/Amount") == nil)
    }
}
