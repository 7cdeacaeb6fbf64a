// Reads one ICAP answer in full: status line, ICAP headers, the encapsulated HTTP
// header sections, and a chunked body if there is one. Nothing is skipped unread,
// and anything malformed is a protocol error that stops the run.
import Foundation

/// What the load generator keeps of an answer.
struct ICAPAnswer {
    /// The ICAP status code (204: clean, no modification).
    let status: Int
    /// The status line and ICAP headers (lines joined by LF), for printing a non-204 answer.
    let head: [UInt8]
    /// Whether the server said it will close the connection after this answer.
    let closes: Bool
}

enum ICAPAnswerReader {
    /// Reads the next answer from `connection`. Throws ICAPClosedBeforeAnswer if the
    /// server closed the connection before the first byte of it.
    static func read(from connection: ICAPConnection) throws -> ICAPAnswer {
        let statusLine = try connection.line("the status line", answerStarted: false)
        let parts = statusLine.split(separator: 0x20, maxSplits: 2)
        guard parts.count >= 2, parts[0].elementsEqual("ICAP/1.0".utf8), parts[1].count == 3,
              let status = Int(String(decoding: parts[1], as: UTF8.self)) else {
            throw ICAPLoadFailure(description: "bad status line: \(printable(statusLine))")
        }
        var head = statusLine
        var encapsulated: String?
        var closes = false
        while true {
            let line = try connection.line("the ICAP headers")
            if line.isEmpty { break }
            head.append(0x0A)
            head.append(contentsOf: line)
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw ICAPLoadFailure(description: "bad header line: \(printable(line))")
            }
            let name = line[..<colon]
            if sameName(name, "encapsulated") {
                encapsulated = String(decoding: line[(colon + 1)...], as: UTF8.self)
            } else if sameName(name, "connection"), String(decoding: line[(colon + 1)...], as: UTF8.self).lowercased().contains("close") {
                closes = true
            }
        }
        // We never offer a Preview, so a 100 Continue would be the server's mistake.
        guard status != 100 else { throw ICAPLoadFailure(description: "100 Continue without a preview:\n\(String(decoding: head, as: UTF8.self))") }
        let sections: [(name: String, offset: Int)]
        if let encapsulated {
            sections = try parseEncapsulated(encapsulated)
        } else if status == 200 {
            throw ICAPLoadFailure(description: "a 200 answer without Encapsulated:\n\(String(decoding: head, as: UTF8.self))")
        } else {
            sections = []  // 204 (c-icap sends none) and error answers: nothing encapsulated
        }
        try readSections(sections, from: connection, head: head)
        return ICAPAnswer(status: status, head: head, closes: closes)
    }

    /// `req-hdr=0, res-hdr=80, res-body=150` as (name, offset) pairs, checked for order and kinds.
    static func parseEncapsulated(_ value: String) throws -> [(name: String, offset: Int)] {
        var sections: [(name: String, offset: Int)] = []
        for entry in value.split(separator: ",") {
            let pair = entry.split(separator: "=")
            guard pair.count == 2, let offset = Int(pair[1].trimmingCharacters(in: .whitespaces)), offset >= 0 else {
                throw ICAPLoadFailure(description: "bad Encapsulated: \(value)")
            }
            sections.append((pair[0].trimmingCharacters(in: .whitespaces).lowercased(), offset))
        }
        let headers: Set = ["req-hdr", "res-hdr"], bodies: Set = ["req-body", "res-body", "opt-body", "null-body"]
        guard let last = sections.last, bodies.contains(last.name), sections.first?.offset == 0,
              sections.dropLast().allSatisfy({ headers.contains($0.name) }),
              zip(sections, sections.dropFirst()).allSatisfy({ $0.offset < $1.offset }) else {
            throw ICAPLoadFailure(description: "bad Encapsulated: \(value)")
        }
        return sections
    }

    /// Reads the HTTP header sections (each must end in an empty line) and the chunked body, if any.
    static func readSections(_ sections: [(name: String, offset: Int)], from connection: ICAPConnection, head: [UInt8]) throws {
        guard let last = sections.last else { return }
        for (section, next) in zip(sections, sections.dropFirst()) {
            let bytes = try connection.take(next.offset - section.offset, "the \(section.name) section")
            guard bytes.count >= 4, bytes.suffix(4).elementsEqual([13, 10, 13, 10]) else {
                throw ICAPLoadFailure(description: "the \(section.name) section does not end in an empty line:\n\(String(decoding: head, as: UTF8.self))")
            }
            if section.name == "res-hdr", !bytes.starts(with: Array("HTTP/1.".utf8)) {
                throw ICAPLoadFailure(description: "the res-hdr section is not an HTTP response head:\n\(String(decoding: head, as: UTF8.self))")
            }
        }
        guard last.name != "null-body" else { return }
        while true {
            let line = try connection.line("a chunk size")
            let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 12, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw ICAPLoadFailure(description: "bad chunk size line: \(printable(line))")
            }
            if size == 0 {
                while try !connection.line("the chunked trailer").isEmpty {}
                return
            }
            try connection.skip(size, "a body chunk")
            guard try connection.line("the end of a chunk").isEmpty else {
                throw ICAPLoadFailure(description: "a chunk of \(size) bytes is not followed by CRLF")
            }
        }
    }

    /// Whether an ASCII header name equals `lowercase`, ignoring case.
    static func sameName(_ name: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard name.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in zip(name, expected).allSatisfy { $0 | 0x20 == $1 } }
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
    }
}
