import Foundation

/// The folding under which markings and context words match: Unicode NFKC, lower
/// case, and Latin/Greek/Armenian letters that look like Cyrillic ones taken as
/// those Cyrillic letters (`Cекретно` with a Latin C is `секретно`).
///
/// The text itself is never normalised: markings are compiled into Hyperscan
/// patterns that list, for every folded letter, every scalar that folds to it
/// (``inverse``), and the few candidates are checked in Swift with ``fold(_:)``.
enum Folding {
    /// Scalars that may sit invisibly between the letters of a word: soft hyphen,
    /// zero-width space, non-joiner and joiner, word joiner, zero-width no-break space.
    static let ignorables: Set<UInt32> = [0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]

    /// Whitespace between words: ASCII, NEL, no-break and the U+2000 spaces,
    /// line and paragraph separators, ideographic space.
    static func isSpace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// Whether `scalar` is part of a word (a letter, a mark or a digit): markings and
    /// context words must not have one of these right before or after them.
    static func isWordPart(_ scalar: UInt32) -> Bool {
        if scalar < 0x80 {
            return (0x30...0x39).contains(scalar) || (0x41...0x5A).contains(scalar) || (0x61...0x7A).contains(scalar)
        }
        guard let value = Unicode.Scalar(scalar), !ignorables.contains(scalar) else { return false }
        let properties = value.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// Whether `scalar` is an ASCII digit.
    static func isDigit(_ scalar: UInt32) -> Bool { (0x30...0x39).contains(scalar) }

    /// The folded form of one scalar: usually one scalar, none for an ignorable,
    /// several for compatibility ligatures (`և` → `եւ`).
    static func fold(_ scalar: UInt32) -> [UInt32] {
        if let folded = table[scalar] { return folded }
        if ignorables.contains(scalar) { return [] }
        return compute(scalar)
    }

    /// Folds a whole string, for phrases and context words from the packs.
    static func fold(_ text: String) -> [UInt32] {
        text.unicodeScalars.flatMap { fold($0.value) }
    }

    /// Folded scalar sequence → every scalar of the covered blocks that folds to it.
    static let inverse: [[UInt32]: [UInt32]] = {
        var inverse: [[UInt32]: [UInt32]] = [:]
        for (scalar, folded) in table where !folded.isEmpty {
            inverse[folded, default: []].append(scalar)
        }
        return inverse.mapValues { $0.sorted() }
    }()

    /// The fold of every scalar in the blocks where look-alikes and compatibility
    /// forms of the letters in markings live.
    static let table: [UInt32: [UInt32]] = {
        let blocks: [ClosedRange<UInt32>] = [
            0x0020...0x024F,   // Basic Latin, Latin-1, Latin Extended-A and -B
            0x0370...0x03FF,   // Greek and Coptic
            0x0400...0x052F,   // Cyrillic and Cyrillic Supplement
            0x0530...0x058F,   // Armenian
            0x1E00...0x1FFF,   // Latin Extended Additional, Greek Extended
            0x2100...0x218F,   // Letterlike Symbols, Number Forms (Roman numerals)
            0x2460...0x24FF,   // Enclosed Alphanumerics
            0x2C60...0x2C7F,   // Latin Extended-C
            0xA640...0xA69F,   // Cyrillic Extended-B
            0xA720...0xA7FF,   // Latin Extended-D
            0xFB00...0xFB17,   // Latin and Armenian ligatures
            0xFF00...0xFFEF,   // Halfwidth and Fullwidth Forms
            0x1D400...0x1D7FF, // Mathematical Alphanumeric Symbols
        ]
        var table: [UInt32: [UInt32]] = [:]
        for block in blocks {
            for scalar in block where Unicode.Scalar(scalar) != nil {
                let folded = compute(scalar)
                if !folded.isEmpty { table[scalar] = folded }
            }
        }
        return table
    }()

    /// NFKC, then look-alikes (so capital Latin B is Cyrillic В before lower-casing
    /// makes it a `b` that looks like nothing), lower case, look-alikes again.
    private static func compute(_ scalar: UInt32) -> [UInt32] {
        guard let value = Unicode.Scalar(scalar) else { return [UTF8Scalars.replacement] }
        if ignorables.contains(scalar) { return [] }
        var out: [UInt32] = []
        for compatible in String(value).precomposedStringWithCompatibilityMapping.unicodeScalars {
            let twin = Lookalikes.cyrillic[compatible.value].flatMap(Unicode.Scalar.init) ?? compatible
            for lower in String(twin).lowercased().unicodeScalars {
                out.append(Lookalikes.cyrillic[lower.value] ?? lower.value)
            }
        }
        return out
    }
}

/// Letters of other scripts that are drawn like a Cyrillic letter (the pairs of
/// Unicode's confusables list that matter for Russian, Kazakh, Belarusian and Kyrgyz
/// text), and digits drawn like letters.
///
/// The table is case-consistent — a capital maps to a capital and its small letter
/// to the twin's small letter, even where only the capitals look alike (T, Т) — so
/// folding gives the same result for `Taxpayer`, `taxpayer` and `TAXPAYER`.
enum Lookalikes {
    /// Scalar → the Cyrillic letter it is taken for.
    static let cyrillic: [UInt32: UInt32] = {
        let capitals: [(String, String)] = [
            ("ABCEHIJKMOPSTXY", "АВСЕНІЈКМОРЅТХУ"),   // Latin
            ("ΑΒΕΗΙΚΜΟΡΤΥΧ", "АВЕНІКМОРТУХ"),         // Greek
            ("Օ", "О"),                               // Armenian
        ]
        var table: [UInt32: UInt32] = [:]
        for (from, to) in capitals {
            for (capital, twin) in zip(from, to) {
                for (f, t) in [(capital, twin), (Character(capital.lowercased()), Character(twin.lowercased()))] {
                    table[f.unicodeScalars.first!.value] = t.unicodeScalars.first!.value
                }
            }
        }
        // Small letters only: their capitals look like nothing Cyrillic, and lower-casing
        // runs before the second look-up, so D and d both end as ԁ.
        for (from, to) in [("dw", "ԁԝ"), ("03", "оз")] {
            for (f, t) in zip(from.unicodeScalars, to.unicodeScalars) { table[f.value] = t.value }
        }
        return table
    }()
}
