import Synchronization

/// Detectors over names: element and attribute names, namespace prefixes and URIs,
/// header names, and the report strings that quote them.
extension RuleSet {
    /// Every match in a name, as ``scan(_:context:)`` finds them in text, plus the
    /// identifiers glued to ASCII letters (`a870612300012`, `IIN870612300012`).
    ///
    /// In prose a number touching a letter is part of a word, and the boundary checks
    /// drop it; a name has no spaces to put between a label and a value, so the name is
    /// scanned a second time with its ASCII letters read as spaces. The copy has the
    /// same length, so its ranges are the name's; the name itself, split where letters
    /// meet digits, is the place, so its words (`INN7707083893`) still count as context.
    /// Each match's `masked` is made from the name's own bytes.
    ///
    /// A document has few distinct names and the next message of its kind the same ones,
    /// so names found clean are remembered (up to ``CleanNameCache/capacity``); names
    /// with a match are not, so no identifier is kept beyond the message.
    public func scanName(_ name: [UInt8]) -> [TextMatch] {
        if cleanNames.contains(name) { return [] }
        let found = scanNameUncached(name)
        if found.isEmpty { cleanNames.insert(name) }
        return found
    }

    private func scanNameUncached(_ name: [UInt8]) -> [TextMatch] {
        let plain = scan(name)
        guard name.contains(where: Self.isASCIILetter), name.contains(where: Boundaries.isDigit) else { return plain }
        let separated = name.map { Self.isASCIILetter($0) ? UInt8(ascii: " ") : $0 }
        let glued = scan(separated, context: Self.splittingDigits(name)).map { match in
            var match = match
            if match.kind == .detector { match.masked = Masking.masked(name[match.range]) }
            return match
        }
        guard !glued.isEmpty else { return plain }
        return TextScan.withoutOverlaps(plain + glued)
    }

    /// `name` with every personal identifier (every detector match outside the
    /// public registers) replaced by its masked form, or `nil` when there is none:
    /// what a report may show of a string that came from a message. Markings and
    /// organization numbers stay readable (they are no one's personal data); a name
    /// that could not be checked is masked whole.
    public func maskedName(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        // Not through the clean-name cache: report strings (a detail with its line number)
        // rarely repeat, and would crowd out the names that do.
        let matches = scanNameUncached(bytes).filter { ($0.kind == .detector && $0.category != .publicRegistry) || $0.ruleID == "kordon.scan-failed" }
        guard !matches.isEmpty else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 8 * matches.count)
        var position = 0
        for match in matches where match.range.lowerBound >= position {
            result += bytes[position..<match.range.lowerBound]
            result += Array(Masking.masked(bytes[match.range]).utf8)
            position = match.range.upperBound
        }
        result += bytes[position...]
        return String(decoding: result, as: UTF8.self)
    }

    /// The name with a space wherever an ASCII letter and a digit meet, so that its words
    /// count as the place's context: `INN7707083893` gives `INN 7707083893`.
    static func splittingDigits(_ name: [UInt8]) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(name.count + 4)
        for (index, byte) in name.enumerated() {
            if index > 0 {
                let previous = name[index - 1]
                if (isASCIILetter(previous) && Boundaries.isDigit(byte)) || (Boundaries.isDigit(previous) && isASCIILetter(byte)) {
                    result.append(UInt8(ascii: " "))
                }
            }
            result.append(byte)
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- 0x61 < 26
    }
}

/// Names a rule set has scanned and found nothing in. Beyond ``capacity`` names (a
/// flood of distinct ones), new names are scanned every time but not kept.
final class CleanNameCache: Sendable {
    /// The most names kept.
    static let capacity = 8192
    private let names = Mutex<Set<[UInt8]>>([])

    /// Whether `name` was found clean before.
    func contains(_ name: [UInt8]) -> Bool {
        names.withLock { $0.contains(name) }
    }

    /// Remembers a clean name, while there is room.
    func insert(_ name: [UInt8]) {
        names.withLock { names in
            if names.count < Self.capacity { names.insert(name) }
        }
    }
}
