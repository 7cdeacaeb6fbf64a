import Foundation
import NIOCore

/// An encapsulated HTTP header section (start line and fields), kept as raw bytes so
/// that what is echoed is exactly what came in, with only the fields Kordon must
/// change edited.
struct HTTPHeaderBlock: Sendable {
    /// The start line (`HTTP/1.1 200 OK`, `POST /upload HTTP/1.1`), without CRLF.
    var startLine: [UInt8]
    /// The field lines, without CRLF.
    var fields: [[UInt8]]

    /// Splits a section that ends with an empty line; `nil` when it is not one (a bare
    /// CR or LF, an empty start line, a field line without a colon).
    init?(_ section: ByteBuffer) {
        let bytes = Array(section.readableBytesView)
        guard bytes.count >= 4, bytes.suffix(4) == [0x0D, 0x0A, 0x0D, 0x0A] else { return nil }
        // Without the final CRLF, every line ends with its own CRLF.
        let (split, rest) = CRLFLines.split(bytes.dropLast(2))
        guard rest.isEmpty else { return nil }
        let lines = split.map { Array($0) }
        // Bare CR or LF inside a line is refused: two parsers must never disagree on where a field ends.
        guard let first = lines.first, !first.isEmpty,
              lines.allSatisfy({ !$0.contains(0x0A) && !$0.contains(0x0D) }),
              lines.dropFirst().allSatisfy({ $0.contains(UInt8(ascii: ":")) }) else { return nil }
        startLine = first
        fields = Array(lines.dropFirst())
    }

    /// A new block.
    init(startLine: String, fields: [(String, String)]) {
        self.startLine = Array(startLine.utf8)
        self.fields = fields.map { Array("\($0.0): \($0.1)".utf8) }
    }

    /// Removes every field whose name is one of `names` (ASCII case-insensitive).
    mutating func remove(_ names: Set<String>) {
        fields.removeAll { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return false }
            let name = String(decoding: line[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            return names.contains(name)
        }
    }

    /// The value of the first field named `name` (lowercase).
    func value(of name: String) -> String? { values(of: name).first }

    /// The values of every field named `name` (lowercase), in order: a list field
    /// (`Content-Encoding`) may be split over several lines.
    func values(of name: String) -> [String] {
        fields.compactMap { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  String(decoding: line[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased() == name else { return nil }
            return String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }

    /// The codings the body of this message carries (``HTTPContentCoding/codings(contentEncoding:transferEncoding:)``).
    var bodyCodings: [String] {
        HTTPContentCoding.codings(contentEncoding: values(of: "content-encoding"), transferEncoding: values(of: "transfer-encoding"))
    }

    /// Appends one field.
    mutating func add(_ name: String, _ value: String) { fields.append(Array("\(name): \(value)".utf8)) }

    /// The section's bytes, ending with the empty line.
    func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(startLine)
        buffer.writeStaticString("\r\n")
        for field in fields {
            buffer.writeBytes(field)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// Byte length of ``write(to:)``'s output.
    var byteCount: Int { startLine.count + 2 + fields.reduce(0) { $0 + $1.count + 2 } + 2 }

    /// Fields that describe a body and become wrong when the body changes.
    static let bodyDescribing: Set<String> = [
        "content-length", "transfer-encoding", "content-md5", "digest", "repr-digest", "content-digest",
        "etag", "content-range", "accept-ranges",
    ]
}
