/// Refuses an ICAP head that cannot become a valid one as soon as its bytes show it,
/// instead of waiting for an empty line that garbage never sends.
///
/// The parser (``ICAPHeadParser``) judges a complete head; this screen judges the bytes
/// as they arrive, so that binary garbage (a TLS hello on the plain port, random bytes),
/// a request line that is not `METHOD icap://… ICAP/…`, and lines that end in a bare LF
/// get `400` at once. It checks each byte once (state carried between reads), and only
/// the head: the encapsulated HTTP headers are judged by ``HTTPHeaderBlock``.
struct ICAPHeadScreen {
    /// The longest request line taken (an ICAP URI names a host and a service).
    static let maxRequestLine = 8192

    /// Where the request line ends (the offset of its LF), once seen.
    private var requestLineEnd: Int?
    /// Bytes of the head already screened.
    private var screened = 0

    /// Starts over for the next head.
    mutating func reset() {
        requestLineEnd = nil
        screened = 0
    }

    /// Screens the head bytes in `raw` not yet screened; the reason for refusing them, or `nil`.
    mutating func problem(in raw: UnsafeRawBufferPointer) -> String? {
        // A lone CR may begin the empty line a client sent between requests: wait for its LF.
        if raw.count == 1, raw[0] == 0x0D { return nil }
        defer { screened = raw.count }
        if requestLineEnd == nil, let problem = Self.requestLinePrefix(raw) { return problem }
        var index = screened
        while index < raw.count {
            let byte = raw[index]
            switch byte {
            case 0x0A:
                guard index > 0, raw[index - 1] == 0x0D else { return "a line of the ICAP head ends in LF without CR" }
                if requestLineEnd == nil { requestLineEnd = index }
            case 0x0D:
                if index + 1 < raw.count, raw[index + 1] != 0x0A { return "a bare CR in the ICAP head" }
            case 0x09:
                if requestLineEnd == nil { return "the ICAP request line is malformed" }
            case 0x00..<0x20, 0x7F:
                return "a control byte in the ICAP head"
            case 0x80...:
                // Header values may carry obs-text; the request line is ASCII.
                if requestLineEnd == nil { return "the ICAP request line is not ASCII" }
            default:
                break
            }
            index += 1
        }
        if requestLineEnd == nil, raw.count > Self.maxRequestLine {
            return "the ICAP request line is longer than \(Self.maxRequestLine) bytes"
        }
        return nil
    }

    /// The start of a request line must read `METHOD SP icap://` or `METHOD SP icaps://`:
    /// checked on the bytes there are, so a wrong start is refused from its first byte.
    private static func requestLinePrefix(_ raw: UnsafeRawBufferPointer) -> String? {
        let malformed = "the ICAP request line is not METHOD icap://host/service ICAP/1.0"
        var index = 0
        while index < raw.count, index <= 16, isLetter(raw[index]) { index += 1 }
        guard index < raw.count else { return index > 16 ? malformed : nil }
        guard index > 0, index <= 16, raw[index] == 0x20 else { return malformed }
        let uri = UnsafeRawBufferPointer(rebasing: raw[(index + 1)...])
        let consistent = ["icap://", "icaps://"].contains { scheme in
            zip(uri, scheme.utf8).allSatisfy { $0 | 0x20 == $1 || $0 == $1 }
        }
        return consistent ? nil : malformed
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte | 0x20) }
}
