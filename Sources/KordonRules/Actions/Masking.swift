/// The `mask` action and the masked form every report shows.
///
/// Separators and the value's shape stay; of its n letters and digits the first
/// and last ⌊n/3⌋ stay and the rest become `•`: `061211600012` → `0612••••0012`,
/// `Иванов` → `Ив••ов`. Values of fewer than three letters and digits are hidden whole.
/// Where the masked form would break the schema type of the element it stands in
/// (`\d{12}`), ``RuleSet/replacement(for:ruleID:action:fitting:)`` writes the hidden
/// characters as fillers of their class instead (`061200000012`).
enum Masking {
    /// The character hidden letters and digits become.
    static let dot: Character = "•"

    /// Whether UTF-8 `value` already holds the mask character.
    static func isMasked(_ value: [UInt8]) -> Bool {
        String(decoding: value, as: UTF8.self).contains(dot)
    }

    /// The masked form of UTF-8 `value` (invalid bytes become U+FFFD first).
    static func masked<Bytes: Collection<UInt8>>(_ value: Bytes) -> String {
        let scalars = Array(String(decoding: value, as: UTF8.self).unicodeScalars)
        let total = scalars.reduce(0) { $0 + (isAlphanumeric($1) ? 1 : 0) }
        let kept = total / 3
        var result = String.UnicodeScalarView()
        var position = 0
        for scalar in scalars {
            guard isAlphanumeric(scalar) else { result.append(scalar); continue }
            if position < kept || position >= total - kept {
                result.append(scalar)
            } else {
                result.append(contentsOf: dot.unicodeScalars)
            }
            position += 1
        }
        return String(result)
    }

    /// Letters and digits of any script.
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}
