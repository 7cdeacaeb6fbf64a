/// Kazakhstan: individual (IIN, ЖСН/ИИН) and business (BIN, БСН/БИН) identification
/// numbers, Law No. 223-III "On national registers of identification numbers".
enum Kazakhstan {
    /// IIN: YYMMDD, century/sex digit 1–6, four serial digits, check digit. The date
    /// must exist and not lie in the future.
    static func iin(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 12), checkDigit(d) == d[11] else { return .invalid }
        guard let century = CalendarDate.century(sexDigit: d[6]) else { return .invalid }
        let year = century + Digits.number(d, 0..<2)
        return CalendarDate.isPast(year: year, month: Digits.number(d, 2..<4), day: Digits.number(d, 4..<6))
            ? .valid : .invalid
    }

    /// BIN: YYMM of registration, type digit 4/5/6 (resident / non-resident legal
    /// entity / sole proprietorship acting jointly), attribute digit 0–3, five serial digits, check digit.
    static func bin(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 12), checkDigit(d) == d[11] else { return .invalid }
        guard (1...12).contains(Digits.number(d, 2..<4)), (4...6).contains(d[4]), (0...3).contains(d[5]) else {
            return .invalid
        }
        return .valid
    }

    /// The shared check digit: Σ d1..d11 × (1…11) mod 11; when that is 10, again
    /// with weights 3…11,1,2; when still 10 the number is never issued (`nil`).
    static func checkDigit(_ d: [Int]) -> Int? {
        let first = Digits.weighted(d, Array(1...11)) % 11
        guard first == 10 else { return first }
        let second = Digits.weighted(d, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]) % 11
        return second == 10 ? nil : second
    }
}
