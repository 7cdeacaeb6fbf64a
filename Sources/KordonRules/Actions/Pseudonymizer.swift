import KordonCrypto

/// The `pseudonymize` action: a keyed, stable token of the same shape.
///
/// HMAC-SHA256(key, canonical value) drives a character-by-character substitution
/// that keeps each character's class — digit → digit, A–Z → A–Z, a–z → a–z,
/// Cyrillic and Armenian capitals and small letters → their own script and case —
/// and keeps separators, so `112-233-445 95` stays `ddd-ddd-ddd dd` and a value
/// of `[0-9A-Z]{9,14}` still fits its schema. Letters of other scripts become `•`.
/// The same value with the same key always gives the same token; the token is then
/// nudged until no validator of the rule set accepts it, so a pseudonym is never
/// taken for a real identifier.
struct Pseudonymizer: Sendable {
    /// The operator's key.
    let key: HMACSHA256

    /// The token for `value`; `nil` only when OpenSSL fails (the caller then masks).
    func token(for value: [UInt8], avoiding validators: [Validator]) -> [UInt8]? {
        let scalars = Array(String(decoding: value, as: UTF8.self).unicodeScalars)
        let canonical = scalars.filter(Masking.isAlphanumeric).map { String($0).uppercased() }.joined()
        guard var stream = KeyStream(key: key, seed: Array("kordon.pseudonym.v1\u{0}\(canonical)".utf8)) else {
            return nil
        }
        var classes: [CharacterClass?] = []
        var output: [Unicode.Scalar] = []
        for scalar in scalars {
            let characterClass = CharacterClass(scalar)
            guard let byte = stream.next() else { return nil }
            classes.append(characterClass)
            if let characterClass {
                output.append(characterClass.scalar(at: Int(byte)))
            } else if Masking.isAlphanumeric(scalar) {
                output.append(contentsOf: Masking.dot.unicodeScalars)
            } else {
                output.append(scalar)
            }
        }
        avoidValidIdentifiers(&output, classes: classes, validators: validators)
        return Array(String(String.UnicodeScalarView(output)).utf8)
    }

    /// Steps characters (last first) through their class until no validator passes:
    /// a deterministic nudge, so the token stays stable.
    private func avoidValidIdentifiers(_ output: inout [Unicode.Scalar], classes: [CharacterClass?], validators: [Validator]) {
        func accepted(_ scalars: [Unicode.Scalar]) -> Bool {
            let bytes = Array(String(String.UnicodeScalarView(scalars)).utf8)[...]
            return validators.contains { $0(bytes) != .invalid }
        }
        guard accepted(output) else { return }
        for index in output.indices.reversed() {
            guard let characterClass = classes[index], let offset = characterClass.offset(of: output[index]) else { continue }
            var candidate = output
            for step in 1..<characterClass.count {
                candidate[index] = characterClass.scalar(at: offset + step)
                if !accepted(candidate) {
                    output = candidate
                    return
                }
            }
        }
    }
}

/// A class of interchangeable characters: a contiguous run of scalars (shared with
/// the schema-fitting replacements, which keep each character's class too).
struct CharacterClass {
    let first: UInt32
    let count: Int

    init?(_ scalar: Unicode.Scalar) {
        switch scalar.value {
        case 0x30...0x39: (first, count) = (0x30, 10)
        case 0x41...0x5A: (first, count) = (0x41, 26)
        case 0x61...0x7A: (first, count) = (0x61, 26)
        case 0x0400...0x042F: (first, count) = (0x0410, 32)
        case 0x0430...0x045F: (first, count) = (0x0430, 32)
        case 0x0460...0x052F where scalar.properties.isUppercase: (first, count) = (0x0410, 32)
        case 0x0460...0x052F where scalar.properties.isLowercase: (first, count) = (0x0430, 32)
        case 0x0531...0x0556: (first, count) = (0x0531, 38)
        case 0x0561...0x0586: (first, count) = (0x0561, 38)
        default: return nil
        }
    }

    func scalar(at index: Int) -> Unicode.Scalar {
        Unicode.Scalar(first + UInt32(index % count))!
    }

    func offset(of scalar: Unicode.Scalar) -> Int? {
        let offset = Int(scalar.value) - Int(first)
        return (0..<count).contains(offset) ? offset : nil
    }
}

/// Bytes of HMAC(key, counter ‖ seed), block after block.
private struct KeyStream {
    let key: HMACSHA256
    let seed: [UInt8]
    var block: [UInt8] = []
    var counter: UInt8 = 0
    var index = 0

    init?(key: HMACSHA256, seed: [UInt8]) {
        self.key = key
        self.seed = seed
        guard refill() else { return nil }
    }

    mutating func next() -> UInt8? {
        if index == block.count { guard refill() else { return nil } }
        defer { index += 1 }
        return block[index]
    }

    private mutating func refill() -> Bool {
        guard let mac = try? key.authenticate([counter] + seed) else { return false }
        block = mac
        index = 0
        counter &+= 1
        return true
    }
}
