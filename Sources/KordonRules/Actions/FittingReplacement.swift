extension RuleSet {
    /// What `action` turns `value` into when the result must also satisfy `fits` — the
    /// simple type of the XML element the value stands in, so that the sanitized document
    /// stays valid; `nil` when no replacement both hides the value and fits.
    ///
    /// The usual replacement (``replacement(for:ruleID:action:)``) comes first. When it
    /// does not fit (`0612••••0012` in an element of pattern `\d{12}`), the hidden
    /// characters are written in their own class instead — digits as digits, Latin,
    /// Cyrillic and Armenian letters as letters of their script and case — with a filler
    /// that depends on nothing hidden (`061200000012`), and then changed one position at
    /// a time until the whole fits. A pseudonym keeps its keyed token and is changed the
    /// same way. A `strip` that must leave the element in place (the schema requires it)
    /// writes the empty value when the type allows it, else a filler that keeps nothing.
    ///
    /// No replacement made this way passes the check of any identifier with a checksum
    /// (IIN, BIN, INN, SNILS, OGRN, OGRNIP, UNP, payment cards), so it is never a real
    /// person's or company's number, and none equals `value`.
    public func replacement(for value: [UInt8], ruleID: String?, action: RuleAction,
                            fitting fits: ([UInt8]) -> Bool) -> [UInt8]? {
        guard let usual = replacement(for: value, ruleID: ruleID, action: action) else { return nil }
        // Nothing to hide (no letter or digit): the value stays as it is, and it fitted.
        if usual == value { return usual }
        return withoutActuallyEscaping(fits) { fits in
            fitting(usual, for: value, action: action, search: FittingSearch(original: value, fits: fits))
        }
    }

    /// The usual replacement if it is acceptable, else the search's answer for `action`.
    private func fitting(_ usual: [UInt8], for value: [UInt8], action: RuleAction, search: FittingSearch) -> [UInt8]? {
        if search.acceptable(usual) { return usual }
        switch action {
        case .mask:
            return search.filled(value, keepingEnds: true)
        case .pseudonymize:
            // `usual` is the keyed token, or the masked form when no key is configured.
            if pseudonymizer != nil, !Masking.isMasked(usual) {
                let token = Array(String(decoding: usual, as: UTF8.self).unicodeScalars)
                return search.nudged(token, changing: Array(token.indices)) ?? search.blended(token)
            }
            return search.filled(value, keepingEnds: true)
        case .strip:
            let scalars = String(decoding: value, as: UTF8.self).unicodeScalars
            let dots = Array(String(String.UnicodeScalarView(scalars.map { Masking.isAlphanumeric($0) ? "•" : $0 })).utf8)
            return search.acceptable(dots) ? dots : search.filled(value, keepingEnds: false)
        case .quarantine, .report, .keep:
            return nil
        }
    }
}

extension Validators {
    /// The validators of identifiers that carry a checksum: a replacement must fail them
    /// all. (Passports, Belarusian personal numbers and Kyrgyz PINs carry none: any
    /// well-shaped number of a real date is one, so failing them cannot be asked for.)
    static let checksummed: [Validator] = ["kz.iin", "kz.bin", "ru.inn", "ru.snils", "ru.ogrn", "ru.ogrnip", "by.unp", "luhn"]
        .compactMap { all[$0] }
}

/// The search for a replacement that fits: candidates are made from what is kept of
/// the value (never from what is hidden) and tried in a fixed order, so the result is
/// stable and tells nothing of the hidden characters.
struct FittingSearch {
    /// The value being replaced: no candidate may equal it.
    let original: [UInt8]
    /// The place's check of a whole candidate.
    let fits: ([UInt8]) -> Bool

    /// Whether `candidate` fits, differs from the value and passes no checksum.
    func acceptable(_ candidate: [UInt8]) -> Bool {
        candidate != original && !Validators.checksummed.contains { $0(candidate[...]) == .valid } && fits(candidate)
    }

    /// `base` if acceptable, else the first acceptable candidate that differs from it in
    /// one of the `changing` positions, stepped through its class, last position first.
    func nudged(_ base: [Unicode.Scalar], changing positions: [Int]) -> [UInt8]? {
        let bytes = Self.utf8(base)
        if acceptable(bytes) { return bytes }
        for index in positions.reversed() {
            guard let characterClass = CharacterClass(base[index]), let offset = characterClass.offset(of: base[index]) else {
                continue
            }
            var candidate = base
            for step in 1..<characterClass.count {
                candidate[index] = characterClass.scalar(at: offset + step)
                let bytes = Self.utf8(candidate)
                if acceptable(bytes) { return bytes }
            }
        }
        return nil
    }

    /// `value` with its hidden letters and digits (the middle third and more, as
    /// ``Masking`` hides them, or all of them) written as fillers of their class: each
    /// letter and digit filler in turn, each nudged, the first acceptable wins.
    /// Letters of scripts without a class stay `•`.
    func filled(_ value: [UInt8], keepingEnds: Bool) -> [UInt8]? {
        let scalars = Array(String(decoding: value, as: UTF8.self).unicodeScalars)
        let letters = scalars.indices.filter { Masking.isAlphanumeric(scalars[$0]) }
        let kept = keepingEnds ? letters.count / 3 : 0
        let hidden = Array(letters[kept..<(letters.count - kept)])
        for (letter, digit) in Self.fillerChoices {
            var candidate = scalars
            var changing: [Int] = []
            for index in hidden {
                if let filler = Self.filler(for: scalars[index], digit: digit, letter: letter) {
                    candidate[index] = filler
                    changing.append(index)
                } else {
                    candidate.replaceSubrange(index...index, with: [Masking.dot.unicodeScalars.first!])
                }
            }
            if let found = nudged(candidate, changing: changing) { return found }
        }
        return nil
    }

    /// For a keyed token no single change makes fit (a date whose month and day both came
    /// out of range): the longest run of the token, from its start or its end, completed
    /// with the first filler that fits, nudged if need be (`8361-47-92` → `8361-11-11`).
    func blended(_ token: [Unicode.Scalar]) -> [UInt8]? {
        let letters = token.indices.filter { Masking.isAlphanumeric(token[$0]) }
        for (letter, digit) in Self.fillerChoices {
            var filler = token
            for index in letters {
                if let replacement = Self.filler(for: token[index], digit: digit, letter: letter) { filler[index] = replacement }
            }
            // A filler nudged to fit (`X` → `T` between a date and a time) is the base.
            guard let fitting = nudged(filler, changing: letters) else { continue }
            filler = Array(String(decoding: fitting, as: UTF8.self).unicodeScalars)
            guard filler.count == token.count else { continue }
            var best = (kept: 0, bytes: fitting)
            for fromStart in [true, false] {
                for kept in stride(from: letters.count - 1, to: best.kept, by: -1) {
                    var candidate = filler
                    for index in fromStart ? letters.prefix(kept) : letters.suffix(kept) { candidate[index] = token[index] }
                    let bytes = Self.utf8(candidate)
                    if acceptable(bytes) {
                        best = (kept, bytes)
                        break
                    }
                }
            }
            return best.bytes
        }
        return nil
    }

    /// Letter fillers (`X`, then `A`: hexadecimal codes take A–F only) by digit fillers 0 to 9.
    static let fillerChoices: [(letter: Int, digit: Int)] = [0, 1].flatMap { letter in (0...9).map { (letter, $0) } }

    /// The filler of `scalar`'s class: `digit` for digits; for letters, choice `letter`
    /// 0 is `X`/`x`, `Х`/`х` (Cyrillic), `Ա`/`ա` (Armenian), choice 1 the script's first
    /// letter (`A`, `А`, `Ա`'s next); `nil` for a letter of another script.
    static func filler(for scalar: Unicode.Scalar, digit: Int, letter: Int) -> Unicode.Scalar? {
        guard let characterClass = CharacterClass(scalar) else { return nil }
        switch characterClass.first {
        case 0x30: return characterClass.scalar(at: digit)
        case 0x41, 0x61: return characterClass.scalar(at: letter == 0 ? 23 : 0)  // X, x or A, a
        case 0x0410, 0x0430: return characterClass.scalar(at: letter == 0 ? 21 : 0)  // Х, х or А, а
        default: return characterClass.scalar(at: letter)
        }
    }

    static func utf8(_ scalars: [Unicode.Scalar]) -> [UInt8] {
        Array(String(String.UnicodeScalarView(scalars)).utf8)
    }
}
