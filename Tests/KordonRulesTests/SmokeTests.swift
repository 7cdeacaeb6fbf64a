import Testing
@testable import KordonRules

@Test func smoke() throws {
    let rules = try Fixtures.allRules()
    print(rules.description)
    for text in ["ИИН 061211600012", "БИН 940140000385", "ИНН 7707083893", "ИНН 500100732259", "СНИЛС 112-233-445 95",
                 "ОГРН 1027700132195", "ОГРНИП 304500116000157", "УНП 200988541", "УНП MA1953684", "Cекретно", "Совершенно секретно",
                 "несекретно", "ДСП", "Плиты ДСП ламинированные", "Գաղտնի", "Сек\u{200B}ретно", "ＳＥＫ"] {
        let matches = rules.scan(Array(text.utf8))
        print(text, "→", matches.map { "\($0.ruleID) \($0.range) \($0.masked)" })
    }
}
