/// What a validator says about a candidate.
enum Validity: Sendable, Equatable {
    /// The candidate is a well-formed identifier of this kind.
    case valid
    /// It is not (checksum, date or structure fails).
    case invalid
    /// It may be one, but carries no checksum to tell (SNILS ≤ 001-001-998):
    /// it only counts next to a context word.
    case validWithContext
}

/// A named check of one kind of identifier, run in Swift on Hyperscan's candidates.
///
/// A validator sees the candidate's canonical form (see ``Canonical``): ASCII
/// digits and upper-case Latin letters, separators removed, Cyrillic look-alike
/// letters mapped to Latin.
struct Validator: Sendable {
    /// The name packs use, `kz.iin`.
    let name: String
    /// The check.
    let check: @Sendable ([UInt8]) -> Validity

    /// Runs the check on raw matched bytes.
    func callAsFunction(_ matched: ArraySlice<UInt8>) -> Validity {
        check(Canonical.form(of: matched))
    }
}

/// The validators packs may name.
enum Validators {
    /// Every validator by name.
    static let all: [String: Validator] = {
        let list: [Validator] = [
            Validator(name: "kz.iin", check: Kazakhstan.iin),
            Validator(name: "kz.bin", check: Kazakhstan.bin),
            Validator(name: "ru.inn", check: Russia.inn),
            Validator(name: "ru.snils", check: Russia.snils),
            Validator(name: "ru.ogrn", check: Russia.ogrn),
            Validator(name: "ru.ogrnip", check: Russia.ogrnip),
            Validator(name: "ru.passport", check: Russia.passport),
            Validator(name: "by.unp", check: Belarus.unp),
            Validator(name: "by.personal-number", check: Belarus.personalNumber),
            Validator(name: "kg.pin", check: Kyrgyzstan.pin),
            Validator(name: "luhn", check: PaymentCard.luhn),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// The names, sorted, for error messages.
    static var names: [String] { all.keys.sorted() }
}

/// The canonical form validators and pseudonyms work on.
enum Canonical {
    /// ASCII digits and Latin capitals of `bytes`, in order: lower-case Latin is
    /// upper-cased, Cyrillic letters that look like Latin ones (А В Е К М Н О Р С Т Х У І)
    /// become those Latin letters, any other letter becomes `?` (so no check passes),
    /// everything else (spaces, hyphens, punctuation) is dropped.
    static func form(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let (scalar, length) = UTF8Scalars.decode(bytes, at: index)
            index += length
            switch scalar {
            case 0x30...0x39, 0x41...0x5A: out.append(UInt8(scalar))
            case 0x61...0x7A: out.append(UInt8(scalar - 0x20))
            default:
                if let latin = cyrillicToLatin[scalar] {
                    out.append(latin)
                } else if let value = Unicode.Scalar(scalar), value.properties.isAlphabetic {
                    out.append(UInt8(ascii: "?"))
                }
            }
        }
        return out
    }

    /// Cyrillic capitals and small letters with a Latin twin, as identifiers print them.
    static let cyrillicToLatin: [UInt32: UInt8] = {
        let pairs: [(String, String)] = [("АВЕКМНОРСТХУІ", "ABEKMHOPCTXYI"), ("авекмнорстхуі", "ABEKMHOPCTXYI")]
        var table: [UInt32: UInt8] = [:]
        for (cyrillic, latin) in pairs {
            for (c, l) in zip(cyrillic.unicodeScalars, latin.utf8) { table[c.value] = l }
        }
        return table
    }()
}

/// Helpers shared by the validators.
enum Digits {
    /// The digit values of `value`, or `nil` unless it is exactly `count` ASCII digits.
    static func of(_ value: [UInt8], count: Int) -> [Int]? {
        guard value.count == count else { return nil }
        var digits: [Int] = []
        digits.reserveCapacity(count)
        for byte in value {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            digits.append(Int(byte - 0x30))
        }
        return digits
    }

    /// The number written by `digits[range]`.
    static func number(_ digits: [Int], _ range: Range<Int>) -> Int {
        digits[range].reduce(0) { $0 * 10 + $1 }
    }

    /// Σ digits[i] × weights[i].
    static func weighted(_ digits: [Int], _ weights: [Int]) -> Int {
        zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
