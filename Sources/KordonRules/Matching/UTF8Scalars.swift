/// Decoding single Unicode scalars forwards and backwards in raw UTF-8, for the
/// few places the matcher looks around a candidate. Invalid bytes decode as
/// U+FFFD of length 1, so bad input never stops or crashes a scan.
enum UTF8Scalars {
    /// The replacement character.
    static let replacement: UInt32 = 0xFFFD

    /// The scalar starting at `index` and its length in bytes.
    static func decode<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at index: Int) -> (UInt32, Int)
    where Bytes.Index == Int {
        let lead = bytes[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return (replacement, 1)
        }
        guard index + length <= bytes.endIndex else { return (replacement, 1) }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return (replacement, 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return (replacement, 1) }
        return (value, length)
    }

    /// The scalar ending just before `index` and its length in bytes.
    static func decode<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, endingAt index: Int) -> (UInt32, Int)
    where Bytes.Index == Int {
        var start = index - 1
        while start > bytes.startIndex, index - start < 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        let (value, length) = decode(bytes, at: start)
        return start + length == index ? (value, length) : (replacement, 1)
    }

    /// The byte offset `count` scalars before `index` (or the start).
    static func offset<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, scalars count: Int, before index: Int) -> Int
    where Bytes.Index == Int {
        var position = index
        var remaining = count
        while remaining > 0, position > bytes.startIndex {
            position -= decode(bytes, endingAt: position).1
            remaining -= 1
        }
        return position
    }

    /// The byte offset `count` scalars after `index` (or the end).
    static func offset<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, scalars count: Int, after index: Int) -> Int
    where Bytes.Index == Int {
        var position = index
        var remaining = count
        while remaining > 0, position < bytes.endIndex {
            position += decode(bytes, at: position).1
            remaining -= 1
        }
        return position
    }
}
