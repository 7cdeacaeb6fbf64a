import Foundation
import KordonCrypto
import Testing
@testable import KordonRules

/// Masks keep the shape and hide the middle; pseudonyms are keyed, stable,
/// same-shaped and never pass a validator.
@Suite(.timeLimit(.minutes(10))) struct ActionTests {
    @Test func maskKeepsFirstAndLastThird() {
        #expect(RuleSet.masked(Array("061211600012".utf8)) == "0612••••0012")
        #expect(RuleSet.masked(Array("Иванов".utf8)) == "Ив••ов")
        #expect(RuleSet.masked(Array("112-233-445 95".utf8)) == "112-•••-••5 95")
        #expect(RuleSet.masked(Array("AB".utf8)) == "••")
        #expect(RuleSet.masked([]) == "")
    }

    @Test func replacementPerAction() throws {
        let rules = try Fixtures.allRules()
        let value = Array("061211600012".utf8)
        #expect(rules.replacement(for: value, ruleID: "kz.iin", action: .strip) == [])
        #expect(rules.replacement(for: value, ruleID: "kz.iin", action: .mask)?.text == "0612••••0012")
        #expect(rules.replacement(for: value, ruleID: "kz.iin", action: .report) == nil)
        #expect(rules.replacement(for: value, ruleID: "kz.iin", action: .quarantine) == nil)
        #expect(rules.replacement(for: value, ruleID: "kz.iin", action: .keep) == nil)
    }

    @Test func pseudonymIsStableSameShapedAndNotTheValue() throws {
        let rules = try Fixtures.allRules()
        let value = Array("112-233-445 95".utf8)
        let first = try #require(rules.replacement(for: value, ruleID: "ru.snils", action: .pseudonymize))
        let second = try #require(rules.replacement(for: value, ruleID: "ru.snils", action: .pseudonymize))
        #expect(first == second)
        #expect(first != value)
        #expect(shape(first.text) == shape("112-233-445 95"))
    }

    @Test func pseudonymKeepsEachScriptAndCase() throws {
        let rules = try Fixtures.allRules()
        for value in ["Иванов", "Smith", "AB1234567XYZ", "Սարգսյան"] {
            let token = try #require(rules.replacement(for: Array(value.utf8), ruleID: nil, action: .pseudonymize)).text
            #expect(shape(token) == shape(value), "\(value) → \(token)")
            #expect(token != value)
        }
    }

    @Test func pseudonymOfAPersonIdFitsItsSchemaType() throws {
        let rules = try Fixtures.allRules()
        let token = try #require(rules.replacement(for: Array("061211600012".utf8), ruleID: "eaeu.person-id", action: .pseudonymize)).text
        #expect(token.range(of: "^[0-9A-Z]{9,14}$", options: .regularExpression) != nil)
    }

    @Test func pseudonymsNeverPassAnyValidator() throws {
        let rules = try Fixtures.allRules()
        var values = ["061211600012", "791028302728", "940140000385", "7707083893", "500100732259",
                      "112-233-445 95", "1027700132195", "304500116000157", "200988541", "MA1953684"]
        // Plus generated valid IINs: whatever the key, their tokens must fail every check.
        var random = SystemRandomNumberGenerator()
        while values.count < 400 {
            var digits = (0..<11).map { _ in Int.random(in: 0...9, using: &random) }
            digits[0...5] = [8, 5, 0, 3, 1, 4][...]
            digits[6] = 3
            guard let check = Kazakhstan.checkDigit(digits + [0]) else { continue }
            values.append((digits + [check]).map(String.init).joined())
        }
        for value in values {
            let token = try #require(rules.replacement(for: Array(value.utf8), ruleID: nil, action: .pseudonymize))
            for validator in Validators.all.values {
                #expect(validator(token[...]) == .invalid, "\(validator.name) accepts the pseudonym of \(value)")
            }
        }
    }

    @Test func pseudonymsDifferPerKey() throws {
        let one = Pseudonymizer(key: try HMACSHA256(key: Array("one".utf8)))
        let other = Pseudonymizer(key: try HMACSHA256(key: Array("other".utf8)))
        for value in ["061211600012", "Иванов", "AB1234567XYZ"] {
            let bytes = Array(value.utf8)
            #expect(one.token(for: bytes, avoiding: []) != other.token(for: bytes, avoiding: []), "\(value)")
        }
    }

    @Test func withoutAKeyPseudonymizeMasks() throws {
        let directory = try TemporaryPacks(["XX.yaml": TemporaryPacks.minimal])
        let library = try RuleLibrary.load(directories: [directory.url], pseudonymKey: nil)
        let rules = try library.ruleSet(for: ["XX"])
        #expect(rules.replacement(for: Array("061211600012".utf8), ruleID: nil, action: .pseudonymize)?.text == "0612••••0012")
    }

    /// d for digits, A/a for Latin, Я/я for Cyrillic, Ա/ա for Armenian, the rest as is.
    private func shape(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar.value {
            case 0x30...0x39: "d"
            case 0x41...0x5A: "A"
            case 0x61...0x7A: "a"
            case 0x0400...0x042F: "Я"
            case 0x0430...0x045F: "я"
            case 0x0531...0x0556: "Ա"
            case 0x0561...0x0586: "ա"
            default: Character(scalar)
            }
        })
    }
}
