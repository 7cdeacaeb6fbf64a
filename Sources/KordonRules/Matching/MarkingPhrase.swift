/// One phrase of a marking, compiled into a byte-level Hyperscan expression that
/// accepts every spelling that folds to it, and checked back in Swift.
///
/// The expression lists, for each folded letter, every scalar of the covered
/// blocks that folds to it (as UTF-8 byte alternatives, so no `HS_FLAG_UTF8`),
/// allows default-ignorable scalars between letters and any run of whitespace
/// between words. It carries no start-of-match tracking (the whitespace run is
/// unbounded): ``start(in:endingAt:)`` walks back from the reported end instead.
struct MarkingPhrase: Sendable {
    /// The marking it belongs to.
    let marking: Int
    /// The folded letters of each word.
    let words: [[UInt32]]
    /// The Hyperscan expression.
    let expression: String

    /// Compiles `phrase`; `nil` when it holds no letter at all.
    init?(_ phrase: String, marking: Int) {
        let words = phrase.split(whereSeparator: { $0.unicodeScalars.allSatisfy { Folding.isSpace($0.value) } })
            .map { Folding.fold(String($0)) }
            .filter { !$0.isEmpty }
        guard !words.isEmpty else { return nil }
        self.marking = marking
        self.words = words
        self.expression = words.map(Self.wordExpression).joined(separator: Self.gap)
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
    /// before it or right after it (ignorables and trailing combining marks skipped).
    static func isWhole(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        var before = range.lowerBound
        while before > 0 {
            let (scalar, length) = UTF8Scalars.decode(text, endingAt: before)
            if Folding.ignorables.contains(scalar) { before -= length; continue }
            if Folding.isWordPart(scalar) { return false }
            break
        }
        var after = range.upperBound
        var skippingMarks = true
        while after < text.count {
            let (scalar, length) = UTF8Scalars.decode(text, at: after)
            if Folding.ignorables.contains(scalar) { after += length; continue }
            if skippingMarks, let value = Unicode.Scalar(scalar), Self.isMark(value) { after += length; continue }
            skippingMarks = false
            return !Folding.isWordPart(scalar)
        }
        return true
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }

    // MARK: - Expression building

    /// Zero or more ignorables between two letters.
    private static let betweenLetters = "(?:" + ByteAlternatives.expression(for: Array(Folding.ignorables)) + ")*"

    /// One or more whitespace or ignorable scalars between two words.
    private static let gap: String = {
        let spaces = (0...0x3000).filter { Folding.isSpace(UInt32($0)) }.map { UInt32($0) }
        return "(?:" + ByteAlternatives.expression(for: spaces + Array(Folding.ignorables)) + ")+"
    }()

    /// The letters of one word; a run of letters that some single scalar folds to
    /// (`եւ` ← `և`) also accepts that scalar.
    private static func wordExpression(_ letters: [UInt32]) -> String {
        var parts: [String] = []
        var index = 0
        while index < letters.count {
            var consumed = 1
            var part = letter(letters[index])
            for length in [3, 2] where index + length <= letters.count {
                let run = Array(letters[index..<index + length])
                guard let ligatures = Folding.inverse[run] else { continue }
                let spelled = run.map(letter).joined(separator: betweenLetters)
                part = "(?:" + spelled + "|" + ByteAlternatives.expression(for: ligatures) + ")"
                consumed = length
                break
            }
            parts.append(part)
            index += consumed
        }
        return parts.joined(separator: betweenLetters)
    }

    /// Every scalar that folds to `folded` (and `folded` itself).
    private static func letter(_ folded: UInt32) -> String {
        let scalars = Set(Folding.inverse[[folded]] ?? []).union([folded])
        return ByteAlternatives.expression(for: Array(scalars))
    }
}

/// Turns a set of scalars into a compact byte-level alternation: a trie of their
/// UTF-8 encodings where sibling bytes with the same continuation share one class.
enum ByteAlternatives {
    /// The expression matching exactly one of `scalars`.
    static func expression(for scalars: [UInt32]) -> String {
        let root = Node()
        for scalar in scalars {
            guard let value = Unicode.Scalar(scalar) else { continue }
            var node = root
            for byte in String(value).utf8 {
                if let next = node.children[byte] {
                    node = next
                } else {
                    let next = Node()
                    node.children[byte] = next
                    node = next
                }
            }
        }
        return emit(root)
    }

    private final class Node {
        var children: [UInt8: Node] = [:]
    }

    /// UTF-8 is prefix-free, so a node is either a leaf or has children.
    private static func emit(_ node: Node) -> String {
        var bySuffix: [String: [UInt8]] = [:]
        for (byte, child) in node.children {
            bySuffix[child.children.isEmpty ? "" : emit(child), default: []].append(byte)
        }
        let alternatives = bySuffix.keys.sorted().map { byteClass(bySuffix[$0]!) + $0 }
        return alternatives.count == 1 ? alternatives[0] : "(?:" + alternatives.joined(separator: "|") + ")"
    }

    private static func byteClass(_ bytes: [UInt8]) -> String {
        let sorted = bytes.sorted()
        if sorted.count == 1 { return hex(sorted[0]) }
        var ranges: [(UInt8, UInt8)] = []
        for byte in sorted {
            if let last = ranges.last, last.1 &+ 1 == byte { ranges[ranges.count - 1].1 = byte } else { ranges.append((byte, byte)) }
        }
        return "[" + ranges.map { $0.0 == $0.1 ? hex($0.0) : hex($0.0) + "-" + hex($0.1) }.joined() + "]"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }
}
