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
