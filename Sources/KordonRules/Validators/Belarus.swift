/// Belarus: payer account number (UNP, УНП) and personal identification number.
enum Belarus {
    /// Letters of the second position of an individual's UNP, in check-value order.
    private static let secondLetters = Array("ABCEHKMOPT".utf8)
    /// Letters that may open an individual's UNP (region).
    private static let firstLetters = Array("ABCEHKM".utf8)

    /// UNP: 9 characters. Organizations: 9 digits, region digit 1–7. Individuals:
    /// a region letter (counted as its place in the Latin alphabet from A = 10), a
    /// letter counted as its index in `ABCEHKMOPT`, and 7 digits. Check = Σ weights
    /// 29,23,19,17,13,7,5,3 mod 11; a result above 9 is never issued.
    static func unp(_ value: [UInt8]) -> Validity {
        guard value.count == 9, value[2...].allSatisfy(isDigit) else { return .invalid }
        var values: [Int] = value.map { isDigit($0) ? Int($0 - 0x30) : -1 }
        if isDigit(value[0]) && isDigit(value[1]) {
            guard (1...7).contains(values[0]) else { return .invalid }
        } else {
            guard firstLetters.contains(value[0]), let second = secondLetters.firstIndex(of: value[1]) else {
                return .invalid
            }
            values[0] = Int(value[0] - UInt8(ascii: "A")) + 10
            values[1] = second
        }
        let check = Digits.weighted(values, [29, 23, 19, 17, 13, 7, 5, 3]) % 11
        return check <= 9 && check == values[8] ? .valid : .invalid
    }

    /// Personal identification number, `[1-6]DDMMYY[ABCKEMH]NNN(PB|BA|BI)C`: century
    /// digit, date of birth (must exist, not in the future), region letter, serial,
    /// citizenship letters and a check character whose letter values are not reliably
    /// published — so packs require a context word instead of a checksum.
    static func personalNumber(_ value: [UInt8]) -> Validity {
        guard value.count == 14 else { return .invalid }
        let digitPlaces = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 13]
        guard digitPlaces.allSatisfy({ isDigit(value[$0]) }), Array("ABCKEMH".utf8).contains(value[7]) else {
            return .invalid
        }
        let citizenship = String(decoding: value[11...12], as: UTF8.self)
        guard ["PB", "BA", "BI"].contains(citizenship) else { return .invalid }
        let d = value.map { Int($0) - 0x30 }
        guard let century = CalendarDate.century(sexDigit: d[0]) else { return .invalid }
        let year = century + Digits.number(d, 5..<7)
        return CalendarDate.isPast(year: year, month: Digits.number(d, 3..<5), day: Digits.number(d, 1..<3))
            ? .valid : .invalid
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
