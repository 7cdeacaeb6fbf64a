import Foundation

/// Date checks for identifiers that encode a date of birth or registration.
enum CalendarDate {
    /// Whether day `day` of month `month` exists in `year` (proleptic Gregorian).
    static func exists(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// Whether the date exists and is not after today (UTC): nobody is born tomorrow.
    static func isPast(year: Int, month: Int, day: Int) -> Bool {
        guard exists(year: year, month: month, day: day) else { return false }
        let today = Today.current
        return (year, month, day) <= (today.year, today.month, today.day)
    }

    /// The century a KZ IIN or BY personal number's century/sex digit names: 1–2 the
    /// 1800s, 3–4 the 1900s, 5–6 the 2000s (odd men, even women); `nil` for any other digit.
    static func century(sexDigit digit: Int) -> Int? {
        switch digit {
        case 1, 2: return 1800
        case 3, 4: return 1900
        case 5, 6: return 2000
        default: return nil
        }
    }

    /// The current year, for two-digit registration years.
    static var currentYear: Int { Today.current.year }
}

/// Today's date in UTC, from `time(2)` (cheap enough for the rare candidate that gets this far).
private enum Today {
    static var current: (year: Int, month: Int, day: Int) {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }
}
