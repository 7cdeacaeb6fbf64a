import Foundation
import Testing
@testable import KordonRules

/// A replacement that must fit a place (an element's schema type): digits stay digits,
/// the length stays, and no checksum of a real identifier passes.
@Suite(.timeLimit(.minutes(10))) struct FittingReplacementTests {
    /// `\d{n}` as a place's check.
    private func digits(_ count: Int) -> ([UInt8]) -> Bool {
        { $0.count == count && $0.allSatisfy { (0x30...0x39).contains($0) } }
    }

    private func checksumPasses(_ value: [UInt8]) -> [String] {
        Validators.checksummed.filter { $0(value[...]) == .valid }.map(\.name)
    }

    @Test func aMaskThatFitsIsTheUsualMask() throws {
        let rules = try Fixtures.allRules()
        let value = Array("061211600012".utf8)
        let fitted = rules.replacement(for: value, ruleID: "kz.iin", action: .mask, fitting: { _ in true })
        #expect(fitted?.text == "0612••••0012")
    }

    @Test func aMaskInADigitsOnlyPlaceHidesTheMiddleWithDigitsThatFailTheChecksum() throws {
        let rules = try Fixtures.allRules()
        for value in ["061211600012", "791028302728", "850315310006", "910624420003"] {
            let fitted = try #require(rules.replacement(for: Array(value.utf8), ruleID: "kz.iin", action: .mask, fitting: digits(12)))
            let text = fitted.text
            #expect(digits(12)(fitted), "\(text)")
            #expect(text.prefix(4) == value.prefix(4) && text.suffix(4) == value.suffix(4), "\(text)")
            #expect(text.dropFirst(4).prefix(4) != value.dropFirst(4).prefix(4), "\(text)")
            #expect(Kazakhstan.iin(fitted) == .invalid, "\(text)")
            #expect(checksumPasses(fitted).isEmpty, "\(text) passes \(checksumPasses(fitted))")
        }
    }

    @Test func everyValidIdentifierGetsADigitsOnlyReplacementThatFailsEveryChecksum() throws {
        let rules = try Fixtures.allRules()
        var random = SystemRandomNumberGenerator()
        func digits(_ count: Int) -> [Int] { (0..<count).map { _ in Int.random(in: 0...9, using: &random) } }
        func weighted(_ d: [Int], _ w: [Int]) -> Int { zip(d, w).reduce(0) { $0 + $1.0 * $1.1 } }
        var values: [String] = []
        while values.count < 300 {  // IINs of real dates
            var d = [8, 5, 0, 3, 1, 5, 3] + digits(4)
            d[0] = Int.random(in: 5...9, using: &random)
            guard let check = Kazakhstan.checkDigit(d + [0]) else { continue }
            values.append((d + [check]).map(String.init).joined())
        }
        while values.count < 600 {  // INNs of persons
            var d = [7, 7] + digits(8)
            d.append(weighted(d, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) % 11 % 10)
            d.append(weighted(d, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) % 11 % 10)
            values.append(d.map(String.init).joined())
        }
        for value in values {
            let bytes = Array(value.utf8)
            #expect(!checksumPasses(bytes).isEmpty, "\(value) should be a valid identifier")
            for action in [RuleAction.mask, .pseudonymize, .strip] {
                let fitted = try #require(rules.replacement(for: bytes, ruleID: nil, action: action, fitting: self.digits(12)),
                                          "\(action) of \(value)")
                #expect(self.digits(12)(fitted) && fitted != bytes, "\(action) of \(value): \(fitted.text)")
                #expect(checksumPasses(fitted).isEmpty, "\(action) of \(value): \(fitted.text) passes \(checksumPasses(fitted))")
            }
        }
    }

    @Test func theFillerDependsOnNothingHidden() throws {
        let rules = try Fixtures.allRules()
        // Same ends, different middles: the replacement must be the same.
        let one = rules.replacement(for: Array("850315310006".utf8), ruleID: nil, action: .mask, fitting: digits(12))
        let other = rules.replacement(for: Array("850399990006".utf8), ruleID: nil, action: .mask, fitting: digits(12))
        #expect(one != nil && one == other)
    }

    @Test func lettersStayLettersOfTheirScriptAndCase() throws {
        let rules = try Fixtures.allRules()
        let latin: ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).range(of: "^[A-Z]{2}[0-9]{7}$", options: .regularExpression) != nil }
        let passport = try #require(rules.replacement(for: Array("AN1234567".utf8), ruleID: nil, action: .mask, fitting: latin)).text
        #expect(passport == "AN1000567")
        let cyrillic: ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).range(of: "^[А-Я]{2}[0-9]{6}$", options: .regularExpression) != nil }
        let card = try #require(rules.replacement(for: Array("АВ123456".utf8), ruleID: nil, action: .mask, fitting: cyrillic)).text
        #expect(card.range(of: "^АВ[0-9]{6}$", options: .regularExpression) != nil && card != "АВ123456", "\(card)")
    }

    @Test func aPseudonymInADigitsOnlyPlaceIsDigitsAndFailsEveryChecksum() throws {
        let rules = try Fixtures.allRules()
        for value in ["061211600012", "770708389324", "11223344595"] {
            let bytes = Array(value.utf8)
            let token = try #require(rules.replacement(for: bytes, ruleID: nil, action: .pseudonymize, fitting: digits(bytes.count)))
            #expect(digits(bytes.count)(token) && token != bytes, "\(token.text)")
            #expect(checksumPasses(token).isEmpty, "\(token.text) passes \(checksumPasses(token))")
            // Stable: the same value gives the same pseudonym.
            #expect(rules.replacement(for: bytes, ruleID: nil, action: .pseudonymize, fitting: digits(bytes.count)) == token)
        }
    }

    @Test func aPseudonymOfADateIsADateAndStable() throws {
        let rules = try Fixtures.allRules()
        let date: ([UInt8]) -> Bool = {
            String(decoding: $0, as: UTF8.self).range(of: "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])$", options: .regularExpression) != nil
        }
        for value in ["1985-03-15", "1991-12-28", "2001-07-09"] {
            let token = try #require(rules.replacement(for: Array(value.utf8), ruleID: nil, action: .pseudonymize, fitting: date), "\(value)")
            let text = token.text
            #expect(date(token) && text != value, "\(value) → \(text)")
            #expect(rules.replacement(for: Array(value.utf8), ruleID: nil, action: .pseudonymize, fitting: date) == token)
        }
    }

    @Test func aStripThatMustLeaveAValueKeepsNothingOfIt() throws {
        let rules = try Fixtures.allRules()
        #expect(rules.replacement(for: Array("KZ-PART-000417".utf8), ruleID: nil, action: .strip, fitting: { _ in true }) == [])
        let dots = rules.replacement(for: Array("KZ-PART-000417".utf8), ruleID: nil, action: .strip, fitting: { !$0.isEmpty })
        #expect(dots?.text == "••-••••-••••••")
        let filler = try #require(rules.replacement(for: Array("850315310006".utf8), ruleID: nil, action: .strip, fitting: digits(12)))
        #expect(filler.text == "000000000000")
    }

    @Test func noReplacementWhenNothingFits() throws {
        let rules = try Fixtures.allRules()
        let boolean: ([UInt8]) -> Bool = { ["true", "false", "1", "0"].contains($0.text) }
        #expect(rules.replacement(for: Array("true".utf8), ruleID: nil, action: .mask, fitting: boolean) == nil)
        #expect(rules.replacement(for: Array("061211600012".utf8), ruleID: nil, action: .mask, fitting: { _ in false }) == nil)
        #expect(rules.replacement(for: Array("061211600012".utf8), ruleID: nil, action: .report, fitting: { _ in true }) == nil)
    }
}
