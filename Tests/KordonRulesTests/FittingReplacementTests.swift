import Foundation
import Testing
@testable import KordonRules

/// A replacement that must fit a place (an element's schema type): digits stay digits,
/// the length stays, and no checksum of a real identifier passes.
@Suite struct FittingReplacementTests {
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
