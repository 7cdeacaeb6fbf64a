import Testing
@testable import KordonRules

/// Valid identifiers are found where they stand, with the pack's category and action;
/// identifiers that need a context word are found only next to one.
@Suite(.timeLimit(.minutes(10))) struct DetectionTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let text: String
        let value: String
        let rule: String
        let action: RuleAction
        let category: RestrictedCategory
        var testDescription: String { rule }
    }

    static let examples: [Example] = [
        .init(text: "Декларант ИП Сейткали, ИИН 061211600012, г. Алматы", value: "061211600012", rule: "kz.iin", action: .mask, category: .personalData),
        .init(text: "ЖСН: 791028302728.", value: "791028302728", rule: "kz.iin", action: .mask, category: .personalData),
        .init(text: "ТОО «Астана», БИН 940140000385", value: "940140000385", rule: "kz.bin", action: .report, category: .publicRegistry),
        .init(text: "ИНН/КПП 7707083893/770701001", value: "7707083893", rule: "ru.inn-organization", action: .report, category: .publicRegistry),
        .init(text: "Получатель: Иванов И. И. (500100732259)", value: "500100732259", rule: "ru.inn-person", action: .mask, category: .personalData),
        .init(text: "СНИЛС 112-233-445 95", value: "112-233-445 95", rule: "ru.snils", action: .mask, category: .personalData),
        .init(text: "страховой номер 11223344595", value: "11223344595", rule: "ru.snils-bare", action: .mask, category: .personalData),
        .init(text: "ОГРН 1027700132195", value: "1027700132195", rule: "ru.ogrn", action: .report, category: .publicRegistry),
        .init(text: "ОГРНИП: 304500116000157", value: "304500116000157", rule: "ru.ogrnip", action: .report, category: .publicRegistry),
        .init(text: "паспорт серия 45 06 № 123456 выдан", value: "45 06 № 123456", rule: "ru.passport", action: .mask, category: .personalData),
        .init(text: "УНП 200988541", value: "200988541", rule: "by.unp", action: .report, category: .publicRegistry),
        .init(text: "УНП: МА1953684", value: "МА1953684", rule: "by.unp", action: .report, category: .publicRegistry),
        .init(text: "идентификационный номер 3140692A001PB6", value: "3140692A001PB6", rule: "by.personal-number", action: .mask, category: .personalData),
        .init(text: "ПИН 21504199000123", value: "21504199000123", rule: "kg.pin", action: .mask, category: .personalData),
        .init(text: "ՀԾՀ 1234567890", value: "1234567890", rule: "am.public-service-number", action: .mask, category: .personalData),
        .init(text: "оплачено картой 4111 1111 1111 1111", value: "4111 1111 1111 1111", rule: "eaeu.payment-card", action: .mask, category: .taxBankSecret),
        .init(text: "անձնագիր AK1234567", value: "AK1234567", rule: "am.passport", action: .mask, category: .personalData),
    ]

    @Test(arguments: examples)
    func validIdentifierIsFound(_ example: Example) throws {
        let text = Array(example.text.utf8)
        let matches = try Fixtures.allRules().scan(text)
        let match = try #require(matches.first { $0.ruleID == example.rule }, "\(matches.map(\.ruleID))")
        #expect(Array(text[match.range]).text == example.value)
        #expect(match.kind == .detector)
        #expect(match.action == example.action)
        #expect(match.category == example.category)
        #expect(match.masked == RuleSet.masked(Array(example.value.utf8)))
        #expect(!match.masked.contains(example.value))
    }

    @Test func contextRequiredIdentifiersNeedAWordNearby() throws {
        #expect(try Fixtures.ruleIDs("7707083893") == [])
        #expect(try Fixtures.ruleIDs("ИНН 7707083893") == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("7707083893 (ИНН)") == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("11223344595") == [])
        #expect(try Fixtures.ruleIDs("200988541") == [])
        #expect(try Fixtures.ruleIDs("1234567890") == [])
    }

    @Test func oneRangeGivesOneMatchEvenWhenSeveralPacksClaimIt() throws {
        // KG and AM passports share the shape and the word; one match stands, chosen by rule id.
        let matches = try Fixtures.allRules().scan(Array("паспорт AC1234567".utf8))
        #expect(matches.map(\.ruleID) == ["am.passport"])
        #expect(matches.first?.action == .mask)
    }

    @Test func contextWordsIgnoreCaseAndLookAlikes() throws {
        #expect(try Fixtures.ruleIDs("инн 7707083893") == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("ИHH 7707083893") == ["ru.inn-organization"])      // Latin H
        #expect(try Fixtures.ruleIDs("\u{0406}NN: 7707083893") == ["ru.inn-organization"]) // Cyrillic І
        #expect(try Fixtures.ruleIDs("Taxpayer 7707083893") == ["ru.inn-organization"])
    }

    @Test func contextWordsAreWholeWords() throws {
        // ИНН inside ИННОВАЦИЯ is no context word.
        #expect(try Fixtures.ruleIDs("ИННОВАЦИЯ 7707083893") == [])
        // A stem runs on: налогоплательщика.
        #expect(try Fixtures.ruleIDs("номер налогоплательщика 7707083893") == ["ru.inn-organization"])
    }

    @Test func contextWordVouchesForTheNearestNumberOnly() throws {
        // Find an HS-code-like number that happens to pass the INN checksum.
        let hs = try #require((8_471_300_000...8_471_399_999).lazy.map(String.init)
            .first { Russia.inn(Array($0.utf8)) == .valid })
        #expect(try Fixtures.ruleIDs("ИНН 7707083893, код ТН ВЭД \(hs)") == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("код ТН ВЭД \(hs)") == [])
    }

    @Test func thePlaceNameSuppliesContext() throws {
        let path = "/GoodsDeclaration/DeclarantDetails/TaxpayerId"
        #expect(try Fixtures.ruleIDs("7707083893", context: path) == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("7707083893", context: "/GoodsDeclaration/ConsignorDetails/INN") == ["ru.inn-organization"])
        #expect(try Fixtures.ruleIDs("200988541", context: "/GoodsDeclaration/DeclarantDetails/UNP") == ["by.unp"])
        #expect(try Fixtures.ruleIDs("7707083893", context: "/GoodsDeclaration/GoodsItemDetails/CommodityCode") == [])
    }

    @Test func snilsWithoutChecksumNeedsContext() throws {
        #expect(try Fixtures.ruleIDs("001-001-998 00") == [])
        #expect(try Fixtures.ruleIDs("СНИЛС 001-001-998 00") == ["ru.snils"])
    }

    @Test func rangesAreByteOffsetsIntoTheText() throws {
        let text = Array("Ёлка — ИИН 061211600012; БИН 940140000385.".utf8)
        let matches = try Fixtures.allRules().scan(text)
        #expect(matches.map(\.ruleID) == ["kz.iin", "kz.bin"])
        #expect(matches.map { Array(text[$0.range]).text } == ["061211600012", "940140000385"])
    }

    @Test func anIdentifierIsNotPartOfALongerNumber() throws {
        #expect(try Fixtures.ruleIDs("9061211600012") == [])
        #expect(try Fixtures.ruleIDs("0612116000121") == [])
        #expect(try Fixtures.ruleIDs("A061211600012") == [])
        #expect(try Fixtures.ruleIDs("+061211600012") == [])
        #expect(try Fixtures.ruleIDs("12,061211600012") == [])
        #expect(try Fixtures.ruleIDs("061211600012.5") == [])
        #expect(try Fixtures.ruleIDs("(061211600012)") == ["kz.iin"])
    }

    @Test func packsOutsideTheRouteDoNotApply() throws {
        let library = try Fixtures.library()
        let kazakhToBelarus = try library.ruleSet(for: library.packIDs(from: "KZ", to: "BY"))
        #expect(kazakhToBelarus.scan(Array("ИНН 7707083893".utf8)).isEmpty)
        #expect(kazakhToBelarus.scan(Array("ИИН 061211600012".utf8)).map(\.ruleID) == ["kz.iin"])
    }

    @Test func whereTextCannotBeEditedThePackDecides() throws {
        let rules = try Fixtures.allRules()
        let matches = rules.scan(Array("ИИН 061211600012, БИН 940140000385, Секретно".utf8))
        #expect(matches.map { rules.actionWhereUneditable($0) } == [.quarantine, .report, .quarantine])
    }
}
