/// Kyrgyzstan: personal identification number (PIN, ПИН / ИНН of a natural person).
enum Kyrgyzstan {
    /// PIN: 14 digits — sex digit 1 or 2, date of birth DDMMYYYY (must exist, from
    /// 1900, not in the future), five serial digits. No public checksum: packs
    /// require a context word.
    static func pin(_ value: [UInt8]) -> Validity {
        guard let d = Digits.of(value, count: 14), d[0] == 1 || d[0] == 2 else { return .invalid }
        let year = Digits.number(d, 5..<9)
        guard year >= 1900 else { return .invalid }
        return CalendarDate.isPast(year: year, month: Digits.number(d, 3..<5), day: Digits.number(d, 1..<3))
            ? .valid : .invalid
    }
}

/// Payment card numbers (bank secret): the Luhn check.
enum PaymentCard {
    /// 13–19 digits, issuer digit 2–6, Luhn sum divisible by 10, not one repeated digit.
    static func luhn(_ value: [UInt8]) -> Validity {
        guard (13...19).contains(value.count), let d = Digits.of(value, count: value.count) else { return .invalid }
        guard (2...6).contains(d[0]), Set(d).count > 1 else { return .invalid }
        var sum = 0
        for (offset, digit) in d.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0 ? .valid : .invalid
    }
}
