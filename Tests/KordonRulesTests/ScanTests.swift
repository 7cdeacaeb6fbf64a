import Testing
@testable import KordonRules

/// One rule set serves many threads; unusual texts take the slow path and still
/// find everything.
@Suite(.timeLimit(.minutes(10))) struct ScanTests {
    static let mixed = """
        Декларант ТОО «Астана», БИН 940140000385, директор ИИН 061211600012.
        ИНН 7707083893, код ТН ВЭД 8471300000, тел. +7 727 250-41-18, 18.03.2025.
        Для служебного пользования
        Плиты ДСП ламинированные, 16 мм
        """

    @Test func eightTasksScanOneRuleSetAtOnce() async throws {
        let rules = try Fixtures.allRules()
        let texts = [Self.mixed, "ＣＥＫＰＥＴＨＯ " + Self.mixed, "УНП МА1953684", "Совершенно\u{2009}секретно"].map { Array($0.utf8) }
        let expected = texts.map { rules.scan($0) }
        #expect(expected[0].map(\.ruleID) == ["kz.bin", "kz.iin", "ru.inn-organization", "eaeu.marking.official-use"])
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    (0..<40).allSatisfy { round in
                        let index = (task + round) % texts.count
                        return rules.scan(texts[index]) == expected[index]
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test func theExoticRescanKeepsIdentifiersAndContext() throws {
        // Fullwidth letters make the sentinel fire: markings are found again with their
        // full forms, while identifiers and context words stay as the first pass found them.
        let ids = try Fixtures.ruleIDs("ＣＥＫＰＥＴＨＯ. ИНН 7707083893; ИИН 061211600012; ДСП")
        #expect(ids == ["eaeu.marking.secret", "ru.inn-organization", "kz.iin"])
    }

    @Test func emptyAndTinyTexts() throws {
        let rules = try Fixtures.allRules()
        #expect(rules.scan([]).isEmpty)
        #expect(rules.scan([0x31]).isEmpty)
        #expect(rules.scan(Array("ДСП".utf8)).map(\.ruleID) == ["eaeu.marking.dsp"])
    }

    @Test func manyMatchesInOneText() throws {
        let line = "ИИН 061211600012, Секретно\n"
        let text = Array(String(repeating: line, count: 5_000).utf8)
        let matches = try Fixtures.allRules().scan(text)
        #expect(matches.count == 10_000)
        #expect(matches.map(\.range.lowerBound) == matches.map(\.range.lowerBound).sorted())
    }
}
