/// Where an identifier candidate may begin and end.
///
/// Hyperscan patterns carry no look-around, so a 12-digit pattern also fires
/// inside a 14-digit timestamp; these byte checks, run in the match callback,
/// drop such candidates before any validator runs.
enum Boundaries {
    /// Whether `text[range]` stands on its own: no ASCII letter or digit touching
    /// it, not a phone number (`+` before), not part of a decimal number or a
    /// longer hyphenated number (`123,4567…`, `…0.50`, `8-112-…`).
    @inline(__always)
    static func isolated(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        let start = range.lowerBound
        let end = range.upperBound
        if start > 0 {
            let previous = text[start - 1]
            if isAlphanumeric(previous) || previous == UInt8(ascii: "+") { return false }
            if start > 1, isJoiner(previous), isDigit(text[start - 2]) { return false }
        }
        if end < text.count {
            let next = text[end]
            if isAlphanumeric(next) { return false }
            if end + 1 < text.count, isJoiner(next), isDigit(text[end + 1]) { return false }
        }
        return true
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inline(__always)
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20) &- 0x61 < 26
    }

    /// Characters that join digit groups into one number: decimal separators and hyphens.
    @inline(__always)
    private static func isJoiner(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "-")
    }
}

/// Short markings (`ДСП`, `ҚБП`) are also ordinary words (`плита ДСП` is chipboard):
/// they count only when they stand alone on their line or field — nothing around
/// them but whitespace, quotes, punctuation or a label such as `Гриф:` — or are
/// followed by the copy number, `Экз. №`.
enum Standalone {
    /// How far to look for the line's ends, in scalars: past the longest label
    /// before the marking, and far enough after it to see `Экз. №`.
    private static let reach = 40

    /// Labels that may precede a marking on its line, folded.
    private static let labels: [[[UInt32]]] = [
        ["гриф"], ["гриф", "секретности"], ["гриф", "ограничения", "доступа"], ["пометка"], ["белгі"],
    ].map { $0.map(Folding.fold) }

    /// The copy-number word that may follow a marking, folded.
    private static let copyWord = Folding.fold("экз")

    /// Whether the marking at `range` stands alone.
    static func check(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        guard let lineStart = lineBoundary(text, from: range.lowerBound, forward: false) else { return false }
        let before = words(text, lineStart..<range.lowerBound)
        guard before.isEmpty || labels.contains(before) else { return false }
        let lineEnd = lineBoundary(text, from: range.upperBound, forward: true)
            ?? UTF8Scalars.offset(text, scalars: reach, after: range.upperBound)
        let after = words(text, range.upperBound..<lineEnd)
        return after.isEmpty || after[0] == copyWord
    }

    /// The words of `text[range]`, folded.
    private static func words(_ text: [UInt8], _ range: Range<Int>) -> [[UInt32]] {
        var words: [[UInt32]] = []
        var current: [UInt32] = []
        var index = range.lowerBound
        while index < range.upperBound {
            let (scalar, length) = UTF8Scalars.decode(text, at: index)
            index += length
            if Folding.ignorables.contains(scalar) { continue }
            if Folding.isWordPart(scalar) {
                current.append(contentsOf: Folding.fold(scalar))
            } else if !current.isEmpty {
                words.append(current)
                current = []
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// The offset of the line's start or end within `reach` scalars, `nil` if farther.
    private static func lineBoundary(_ text: [UInt8], from index: Int, forward: Bool) -> Int? {
        var position = index
        for _ in 0..<reach {
            if forward {
                guard position < text.count else { return position }
                let (scalar, length) = UTF8Scalars.decode(text, at: position)
                if isLineBreak(scalar) { return position }
                position += length
            } else {
                guard position > 0 else { return position }
                let (scalar, length) = UTF8Scalars.decode(text, endingAt: position)
                if isLineBreak(scalar) { return position }
                position -= length
            }
        }
        return nil
    }

    private static func isLineBreak(_ scalar: UInt32) -> Bool {
        scalar == 0x0A || scalar == 0x0D || scalar == 0x0B || scalar == 0x0C || scalar == 0x85 || scalar == 0x2028 || scalar == 0x2029
    }
}
