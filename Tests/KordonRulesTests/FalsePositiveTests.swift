import Foundation
import Testing
@testable import KordonRules

/// Numbers of the same shapes as identifiers that are not identifiers are never
/// findings: dates, phone numbers, HS codes, amounts, and numbers whose checksum fails.
@Suite(.timeLimit(.minutes(10))) struct FalsePositiveTests {
    /// A fixed-seed generator, so a failure can be reproduced.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    private func digits(_ count: Int, _ random: inout Seeded) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
    }

    /// Scans `lines` as one text and returns what matched, with the matched text.
    private func findings(_ lines: [String]) throws -> [String] {
        let text = Array(lines.joined(separator: "\n").utf8)
        return try Fixtures.allRules().scan(text).map { "\($0.ruleID): \(Array(text[$0.range]).text)" }
    }

    @Test func datesAreNotIdentifiers() throws {
        var random = Seeded(state: 1)
        var lines: [String] = []
        for _ in 0..<3_000 {
            let (y, m, d) = (Int.random(in: 1950...2030, using: &random), Int.random(in: 1...12, using: &random), Int.random(in: 1...28, using: &random))
            let (h, mi, s) = (Int.random(in: 0...23, using: &random), Int.random(in: 0...59, using: &random), Int.random(in: 0...59, using: &random))
            lines.append(String(format: "Дата: %04d-%02d-%02d, %02d.%02d.%04d, отметка %04d%02d%02d%02d%02d%02d.", y, m, d, d, m, y, y, m, d, h, mi, s))
        }
        #expect(try findings(lines) == [])
    }

    @Test func phoneNumbersAreNotIdentifiers() throws {
        var random = Seeded(state: 2)
        var lines: [String] = []
        for _ in 0..<3_000 {
            lines.append("Тел.: +7 727 \(digits(3, &random))-\(digits(2, &random))-\(digits(2, &random)), моб. 8701\(digits(7, &random)), +7701\(digits(7, &random)), +375 29 \(digits(7, &random))")
        }
        #expect(try findings(lines) == [])
    }

    @Test func hsCodesAreNotIdentifiers() throws {
        var random = Seeded(state: 3)
        var lines: [String] = []
        var passingINN = 0
        for _ in 0..<3_000 {
            let code = "\(Int.random(in: 1...9, using: &random))\(digits(9, &random))"
            if Russia.inn(Array(code.utf8)) == .valid { passingINN += 1 }
            lines.append("Товар классифицируется в подсубпозиции \(code) ТН ВЭД ЕАЭС; HS code \(code).")
        }
        // About one code in ten passes the INN-10 checksum: only the missing context word keeps them out.
        #expect(passingINN > 100)
        #expect(try findings(lines) == [])
    }

    @Test func amountsAreNotIdentifiers() throws {
        var random = Seeded(state: 4)
        var lines: [String] = []
        for _ in 0..<3_000 {
            let whole = Int.random(in: 1_000_000_000...999_999_999_999_999, using: &random)
            lines.append("Сумма \(whole).\(digits(2, &random)) руб., \(whole),\(digits(2, &random)) тенге, \(Int.random(in: 1...999, using: &random)) \(digits(3, &random)) \(digits(3, &random)),\(digits(2, &random)) USD")
        }
        #expect(try findings(lines) == [])
    }

    /// 10,000 numbers of every shape a checksum guards, each failing every validator,
    /// each written right after the context word that would vouch for it.
    @Test func randomNumbersWhoseChecksumFailsAreNeverFindings() throws {
        var random = Seeded(state: 5)
        let shapes: [(length: Int, words: [String])] = [
            (9, ["УНП"]), (10, ["ИНН"]), (11, ["СНИЛС"]), (12, ["ИИН", "БИН", "ИНН"]), (13, ["ОГРН"]),
            (14, ["ПИН"]), (15, ["ОГРНИП"]), (16, ["карта"]),
        ]
        var lines: [String] = []
        while lines.count < 10_000 {
            let shape = shapes[lines.count % shapes.count]
            let number = digits(shape.length, &random)
            guard Validators.all.values.allSatisfy({ $0(Array(number.utf8)[...]) == .invalid }) else { continue }
            lines.append("\(shape.words.randomElement(using: &random)!) \(number)")
            if shape.length == 11 {
                let formatted = "\(number.prefix(3))-\(number.dropFirst(3).prefix(3))-\(number.dropFirst(6).prefix(3)) \(number.suffix(2))"
                lines.append("СНИЛС \(formatted)")
            }
        }
        #expect(lines.count >= 10_000)
        #expect(try findings(lines) == [])
    }
}
