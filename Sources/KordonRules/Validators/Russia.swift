/// Russia: taxpayer (INN), insurance (SNILS) and registration (OGRN, OGRNIP) numbers, passports.
enum Russia {
    /// INN: 10 digits (organization) or 12 (natural person); region code not 00.
    static func inn(_ value: [UInt8]) -> Validity {
        if let d = Digits.of(value, count: 10) {
            guard Digits.number(d, 0..<2) != 0 else { return .invalid }
            return check(d, [2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9] ? .valid : .invalid
        }
        if let d = Digits.of(value, count: 12) {
            guard Digits.number(d, 0..<2) != 0 else { return .invalid }
            let first = check(d, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
            let second = check(d, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
            return first == d[10] && second == d[11] ? .valid : .invalid
        }
        return .invalid
    }

    /// SNILS: nine digits and a two-digit checksum (weights 9…1; a sum under 100 is
    /// the checksum, 100 and 101 give 00, otherwise mod 101 with 100 → 00). Numbers
    /// up to 001-001-998 were issued before the checksum and carry none: they only
    /// count next to a context word.
    static func snils(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 11) else { return .invalid }
        let number = Digits.number(d, 0..<9)
        guard number > 0 else { return .invalid }
        if number <= 1_001_998 { return .validWithContext }
        let sum = Digits.weighted(d, [9, 8, 7, 6, 5, 4, 3, 2, 1])
        let expected: Int
        switch sum {
        case ..<100: expected = sum
        case 100, 101: expected = 0
        default: expected = sum % 101 == 100 ? 0 : sum % 101
        }
        return expected == Digits.number(d, 9..<11) ? .valid : .invalid
    }

    /// OGRN: 13 digits; record kind 1 or 5, registration year 02 up to this year,
    /// region 01–99, check digit = first 12 digits mod 11 mod 10.
    static func ogrn(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 13), d[0] == 1 || d[0] == 5 else { return .invalid }
        guard registration(d, since: 2), Digits.number(d, 3..<5) != 0 else { return .invalid }
        return Digits.number(d, 0..<12) % 11 % 10 == d[12] ? .valid : .invalid
    }

    /// OGRNIP: 15 digits; record kind 3, registration year 04 up to this year,
    /// region 01–99, check digit = first 14 digits mod 13 mod 10.
    static func ogrnip(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 15), d[0] == 3 else { return .invalid }
        guard registration(d, since: 4), Digits.number(d, 3..<5) != 0 else { return .invalid }
        return Digits.number(d, 0..<14) % 13 % 10 == d[14] ? .valid : .invalid
    }

    /// Passport of a citizen: series (region 01–99, form year 97 up to next year)
    /// and a six-digit number other than 000000. No checksum: packs require a context word.
    static func passport(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 10), Digits.number(d, 0..<2) != 0 else { return .invalid }
        let year = Digits.number(d, 2..<4)
        let nextYear = (CalendarDate.currentYear + 1) % 100
        guard year >= 97 || year <= nextYear, Digits.number(d, 4..<10) != 0 else { return .invalid }
        return .valid
    }

    /// mod 11 mod 10 of the weighted digits.
    private static func check(_ d: [Int], _ weights: [Int]) -> Int {
        Digits.weighted(d, weights) % 11 % 10
    }

    /// Digits 2–3 are a registration year from `since` (2000s) up to this year.
    private static func registration(_ d: [Int], since: Int) -> Bool {
        let year = Digits.number(d, 1..<3)
        return year >= since && year <= CalendarDate.currentYear % 100
    }
}
