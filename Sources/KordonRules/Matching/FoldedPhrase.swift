/// A phrase matched under ``Folding`` — a marking phrase or a context word —
/// compiled into byte-level Hyperscan expressions that accept every spelling that
/// folds to it, and checked back in Swift.
///
/// Each phrase has three expressions. The *full* one lists, for every folded letter,
/// every scalar of the covered blocks that folds to it (as UTF-8 byte alternatives,
/// so no `HS_FLAG_UTF8`), allows default-ignorable scalars between letters and any
/// run of whitespace between words. The *common* one keeps only the scalars of
/// ordinary text — ASCII, Cyrillic, Armenian, no-break space — and no ignorables:
/// it is several times faster, and gives the same matches on any text that holds
/// none of the phrase's other (``exotic``) scalars. The matcher scans with the
/// common expressions and a sentinel for the exotic scalars, and rescans with the
/// full expressions only the texts where the sentinel fires. The *plain* one only
/// varies the case of the letters as written: Hyperscan picks long literals from
/// it, which keeps dozens of context words cheap to look for (see ``Matcher``).
///
/// No expression tracks the start of a match (the whitespace run is
/// unbounded): ``start(in:endingAt:)`` walks back from the reported end instead.
struct FoldedPhrase: Sendable {
    /// The folded letters of each word.
    let words: [[UInt32]]
    /// The expression for ordinary text.
    let commonExpression: String
    /// The expression for any text.
    let fullExpression: String
    /// The scalars only the full expression accepts.
    let exotic: Set<UInt32>

    /// The expression for the phrase as written, in any case (context words).
    let plainExpression: String

    /// Two-letter spellings that mix Latin and Cyrillic look-alikes (`ИH`, `Hн`,
    /// `aх`…) for every pair of neighbouring letters: a mixed spelling of the phrase
    /// holds at least one of them, unless every letter was swapped for its twin.
    let mixedPairs: Set<[UInt8]>

    /// Compiles `phrase`; `nil` when it holds no letter at all.
    init?(_ phrase: String) {
        let written = phrase.split(whereSeparator: { $0.unicodeScalars.allSatisfy { Folding.isSpace($0.value) } })
        let words = written.map { Folding.fold(String($0)) }
        guard !words.isEmpty, words.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.words = words
        var exotic: Set<UInt32> = []
        let full = words.map { Self.wordExpression($0, common: false, exotic: &exotic) }
        let common = words.map { Self.wordExpression($0, common: true, exotic: &exotic) }
        self.fullExpression = full.joined(separator: Self.gap)
        self.commonExpression = common.joined(separator: Self.commonGap)
        self.plainExpression = written.map { Self.caseVariants(String($0)) }.joined(separator: Self.commonGap)
        self.mixedPairs = Set(words.flatMap { word in zip(word, word.dropFirst()).flatMap(Self.mixedSpellings) })
        self.exotic = exotic.union(Folding.ignorables).union(Self.spaces.filter { !Self.isCommon($0) })
    }

    /// Where the occurrence ending at byte `end` starts: the phrase matched backwards
    /// under the same folding; `nil` if it does not end there.
    func start(in text: [UInt8], endingAt end: Int) -> Int? {
        var position = end
        for index in words.indices.reversed() {
            if index != words.count - 1 {
                let gapEnd = position
                while position > 0 {
                    let (scalar, length) = UTF8Scalars.decode(text, endingAt: position)
                    guard Folding.isSpace(scalar) || Folding.ignorables.contains(scalar) else { break }
                    position -= length
                }
                guard position < gapEnd else { return nil }
            }
            var remaining = words[index][...]
            while !remaining.isEmpty {
                guard position > 0 else { return nil }
                let (scalar, length) = UTF8Scalars.decode(text, endingAt: position)
                position -= length
                if Folding.ignorables.contains(scalar) { continue }
                let folded = Folding.fold(scalar)
                guard !folded.isEmpty, folded.count <= remaining.count,
                      remaining.suffix(folded.count).elementsEqual(folded) else { return nil }
                remaining = remaining.dropLast(folded.count)
            }
        }
        return position
    }

    /// Whether the occurrence is a word of its own: no letter, digit or mark right
    /// before it or right after it.
    static func isWhole(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        startsWord(text, at: range.lowerBound) && endsWord(text, at: range.upperBound)
    }

    /// Whether no letter, digit or mark comes right before `start` (ignorables skipped).
    static func startsWord(_ text: [UInt8], at start: Int) -> Bool {
        var position = start
        while position > 0 {
            let (scalar, length) = UTF8Scalars.decode(text, endingAt: position)
            guard Folding.ignorables.contains(scalar) else { return !Folding.isWordPart(scalar) }
            position -= length
        }
        return true
    }

    /// Whether no letter or digit comes right after `end` (ignorables and combining
    /// marks skipped, so a stress mark on the last letter does not hide a marking).
    static func endsWord(_ text: [UInt8], at end: Int) -> Bool {
        var position = end
        while position < text.count {
            let (scalar, length) = UTF8Scalars.decode(text, at: position)
            guard Folding.ignorables.contains(scalar) || isMark(scalar) else { return !Folding.isWordPart(scalar) }
            position += length
        }
        return true
    }

    private static func isMark(_ scalar: UInt32) -> Bool {
        guard scalar >= 0x300, let value = Unicode.Scalar(scalar) else { return false }
        switch value.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    // MARK: - Expression building

    /// Scalars of ordinary text: ASCII, Cyrillic and Cyrillic Supplement, Armenian, no-break space.
    static func isCommon(_ scalar: UInt32) -> Bool {
        scalar < 0x80 || scalar == 0xA0 || (0x0400...0x058F).contains(scalar)
    }

    /// Every whitespace scalar.
    private static let spaces: [UInt32] = (0...0x3000).map { UInt32($0) }.filter(Folding.isSpace)

    /// Zero or more ignorables between two letters.
    private static let betweenLetters = "(?:" + ByteAlternatives.expression(for: Array(Folding.ignorables)) + ")*"

    /// One or more whitespace or ignorable scalars between two words.
    private static let gap = "(?:" + ByteAlternatives.expression(for: spaces + Array(Folding.ignorables)) + ")+"

    /// One or more common whitespace scalars between two words.
    private static let commonGap = "(?:" + ByteAlternatives.expression(for: spaces.filter(isCommon)) + ")+"

    /// The spellings of two folded letters in which one is ASCII and the other not.
    private static func mixedSpellings(_ first: UInt32, _ second: UInt32) -> [[UInt8]] {
        func spellings(_ folded: UInt32) -> [UInt32] {
            Set(Folding.inverse[[folded]] ?? []).union([folded]).filter { isCommon($0) && $0 != 0xA0 }.sorted()
        }
        var pairs: [[UInt8]] = []
        for a in spellings(first) {
            for b in spellings(second) where (a < 0x80) != (b < 0x80) {
                guard let x = Unicode.Scalar(a), let y = Unicode.Scalar(b) else { continue }
                pairs.append(Array(String(x).utf8) + Array(String(y).utf8))
            }
        }
        return pairs
    }

    /// Each scalar of `word` as written, in upper or lower case.
    private static func caseVariants(_ word: String) -> String {
        word.unicodeScalars.map { scalar in
            let variants = [String(scalar), String(scalar).uppercased(), String(scalar).lowercased()]
                .compactMap { $0.unicodeScalars.count == 1 ? $0.unicodeScalars.first!.value : nil }
            return ByteAlternatives.expression(for: Array(Set(variants)))
        }.joined()
    }

    /// The letters of one word; a run of letters that some single scalar folds to
    /// (`եւ` ← `և`) also accepts that scalar. Scalars the common form leaves out
    /// are collected in `exotic`.
    private static func wordExpression(_ letters: [UInt32], common: Bool, exotic: inout Set<UInt32>) -> String {
        func letter(_ folded: UInt32) -> String {
            let scalars = Set(Folding.inverse[[folded]] ?? []).union([folded])
            guard common else { return ByteAlternatives.expression(for: Array(scalars)) }
            // The folded letter itself always stays, so the common form is never empty.
            let kept = scalars.filter { isCommon($0) || $0 == folded }
            exotic.formUnion(scalars.subtracting(kept))
            return ByteAlternatives.expression(for: Array(kept))
        }
        let separator = common ? "" : betweenLetters
        var parts: [String] = []
        var index = 0
        while index < letters.count {
            var consumed = 1
            var part = letter(letters[index])
            for length in [3, 2] where index + length <= letters.count {
                let run = Array(letters[index..<index + length])
                guard let ligatures = Folding.inverse[run] else { continue }
                let spelled = run.map(letter).joined(separator: separator)
                let kept = common ? ligatures.filter(isCommon) : ligatures
                if common { exotic.formUnion(ligatures.filter { !isCommon($0) }) }
                if !kept.isEmpty { part = "(?:" + spelled + "|" + ByteAlternatives.expression(for: kept) + ")" } else { part = spelled }
                consumed = length
                break
            }
            parts.append(part)
            index += consumed
        }
        return parts.joined(separator: separator)
    }
}
