import Testing
@testable import KordonRules

/// Classification markings match under NFKC, case and look-alike folding, with
/// invisible characters and any whitespace, but only as whole words.
@Suite(.timeLimit(.minutes(10))) struct MarkingTests {
    @Test(arguments: [
        ("Секретно", "eaeu.marking.secret"),
        ("СЕКРЕТНО", "eaeu.marking.secret"),
        ("Cекретно", "eaeu.marking.secret"),                      // Latin C, as a real marking list writes it
        ("CEKPETHO", "eaeu.marking.secret"),                      // every letter Latin
        ("ＣＥＫＰＥＴＨＯ", "eaeu.marking.secret"),               // fullwidth
        ("𝐂𝐄𝐊𝐏𝐄𝐓𝐇𝐎", "eaeu.marking.secret"),                      // mathematical bold
        ("Сек\u{200B}ретно", "eaeu.marking.secret"),              // zero-width space
        ("Секрет\u{00AD}но", "eaeu.marking.secret"),              // soft hyphen
        ("Секре\u{200D}тно", "eaeu.marking.secret"),              // zero-width joiner
        ("Секретно\u{0301}", "eaeu.marking.secret"),              // stress mark on the last letter
        ("Совершенно секретно", "eaeu.marking.top-secret"),
        ("Сoвершенно\u{00A0}секретно", "eaeu.marking.top-secret"), // Latin o, no-break space
        ("Совершенно\u{2009}\u{2009}секретно", "eaeu.marking.top-secret"), // thin spaces
        ("ΟСОБОЙ ВАЖНОСТИ", "eaeu.marking.top-importance"),       // Greek capital omicron
        ("Для служебного\n   пользования", "eaeu.marking.official-use"),
        ("Коммерческая тайна", "eaeu.marking.commercial-secret"),
        ("Конфиденциально", "eaeu.marking.confidential"),
        ("Өте құпия", "kz.marking.top-secret"),
        ("Аса маңызды", "kz.marking.top-importance"),
        ("Цалкам сакрэтна", "by.marking.top-secret"),
        ("Для службовага карыстання", "by.marking.official-use"),
        ("Өтө жашыруун", "kg.marking.top-secret"),
        ("Өзгөчө маанилүү", "kg.marking.top-importance"),
        ("Գաղտնի", "am.marking.secret"),
        ("Հույժ գաղտնի", "am.marking.top-secret"),
        ("Առանձնակի կարևորության", "am.marking.top-importance"),
        ("Առանձնակի կարեւորության", "am.marking.top-importance"), // և spelled as ե + ւ
        ("Налоговая тайна", "ru.marking.tax-secret"),
    ])
    func markingIsFound(_ written: String, _ rule: String) throws {
        let text = Array("Документ. \(written). Конец".utf8)
        let matches = try Fixtures.allRules().scan(text)
        #expect(matches.map(\.ruleID) == [rule])
        let match = try #require(matches.first)
        #expect(match.kind == .marking)
        #expect(match.action == .quarantine)
        #expect(match.masked == rule)
        // The range covers the marking itself (a trailing combining mark stays outside).
        let matched = Array(Array(text[match.range]).text.unicodeScalars)
        let expected = Array(written.unicodeScalars)
        #expect(matched == expected || matched + ["\u{0301}"] == expected)
    }

    @Test(arguments: ["секретность", "несекретно", "Секретное письмо", "рассекречено", "Құпиясы", "sekretno", "Секретно2"])
    func sameLettersInsideOtherWordsAreNoMarking(_ written: String) throws {
        #expect(try Fixtures.ruleIDs("Текст: \(written) и далее") == [])
    }

    @Test func markingCategories() throws {
        let rules = try Fixtures.allRules()
        let categories = ["Секретно", "ДСП", "Коммерческая тайна", "Банковская тайна"].map {
            rules.scan(Array($0.utf8)).first?.category
        }
        #expect(categories == [.stateSecret, .officialUse, .commercialSecret, .taxBankSecret])
    }

    @Test(arguments: ["ДСП", "  ДСП  ", "«ДСП»", "Гриф: ДСП", "гриф ДСП", "ДСП\nПриказ № 12", "Приказ\nДСП\nО мерах",
                      "ДСП Экз. № 2", "ДСП экз.№1", "ҚБП", "ДСК"])
    func abbreviationStandingAloneIsAMarking(_ text: String) throws {
        #expect(try Fixtures.ruleIDs(text).count == 1)
    }

    @Test(arguments: ["Плиты ДСП ламинированные, 16 мм", "плита ДСП", "ДСП ламинированная", "из ДСП и МДФ", "Гриф и ДСП"])
    func abbreviationInsideOrdinaryTextIsNoMarking(_ text: String) throws {
        #expect(try Fixtures.ruleIDs(text) == [])
    }

    @Test func theLongerMarkingWins() throws {
        #expect(try Fixtures.ruleIDs("СОВЕРШЕННО СЕКРЕТНО") == ["eaeu.marking.top-secret"])
        #expect(try Fixtures.ruleIDs("Հույժ գաղտնի") == ["am.marking.top-secret"])
    }

    @Test func aMarkingInsideBrokenUTF8IsStillFoundAndNothingCrashes() throws {
        var text: [UInt8] = [0xFF, 0xD0, 0x20, 0xE2, 0x80]
        text += Array(" Секретно ".utf8)
        text += [0xC3, 0x28, 0xF0, 0x9D]
        let matches = try Fixtures.allRules().scan(text)
        #expect(matches.map(\.ruleID) == ["eaeu.marking.secret"])
    }
}
