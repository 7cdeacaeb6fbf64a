import Foundation

/// The bytes GMime parses for a message, and how they relate to the bytes received.
///
/// GMime expects a message to start with its first header field and its lines to end in
/// LF or CRLF; mail readers such as Python's `email` accept more. So that Kordon decodes
/// what those readers decode, the received bytes are adjusted before GMime sees them:
/// - an mbox `From ` line and blank or continuation lines before the first field are left
///   out (``prefix``; the message is flagged malformed when there were blank or
///   continuation lines);
/// - a message whose header block ends its lines with a bare CR has every bare CR read as
///   CRLF (``normalizedLineEnds``);
/// - a headerless multipart body (an HTTP `multipart/form-data` upload) gets a
///   `Content-Type` header naming its boundary (``syntheticHeader``).
///
/// The bytes received stay what is passed on when the message is clean.
struct MIMEInput {
    /// What the sniffer made of the bytes.
    let sniff: MIMEHeaderSniffer.Sniff
    /// Bytes in front of the message that GMime does not expect; kept in front of a rewritten message.
    let prefix: Data
    /// What GMime parses.
    let message: Data
    /// The header block Kordon put in front of a headerless multipart body; taken off a rewritten message.
    let syntheticHeader: Data?
    /// Whether bare CR line ends were rewritten as CRLF.
    let normalizedLineEnds: Bool

    /// The input for `data`.
    init(_ data: Data) {
        sniff = MIMEHeaderSniffer.sniff(data)
        prefix = Data(data.prefix(sniff.prefixLength))
        var body = data.dropFirst(sniff.prefixLength)
        normalizedLineEnds = sniff.bareCRLineEnds
        if normalizedLineEnds { body = Self.crlfForBareCR(body)[...] }
        if case .headerlessMultipart(let boundary) = sniff.shape {
            let newline = MIMELineBreaks.usesCRLF(Data(body)) ? "\r\n" : "\n"
            let header = Data("Content-Type: multipart/form-data; boundary=\"\(boundary)\"\(newline)\(newline)".utf8)
            syntheticHeader = header
            message = header + body
        } else {
            syntheticHeader = nil
            // Unchanged, the message shares the received bytes: a copy cost its whole size.
            message = sniff.prefixLength == 0 && !normalizedLineEnds && data.startIndex == 0 ? data : Data(body)
        }
    }

    /// `message` written back by GMime, as the bytes to pass on: the prefix in front, a
    /// synthetic header block (GMime's rendering of it: everything up to the first blank line) off.
    func output(fromWritten written: Data) -> Data {
        guard let syntheticHeader else { return prefix + written }
        let separator = Data((syntheticHeader.last == 0x0A && syntheticHeader.dropLast().last == 0x0D ? "\r\n\r\n" : "\n\n").utf8)
        let end = written.firstRange(of: separator)?.upperBound ?? written.startIndex
        return prefix + written[end...]
    }

    /// `data` with every CR that is not followed by LF turned into CRLF.
    static func crlfForBareCR(_ data: Data) -> Data {
        data.withUnsafeBytes { raw -> Data in
            let bytes = raw.bindMemory(to: UInt8.self)
            var output = [UInt8]()
            output.reserveCapacity(bytes.count + bytes.count / 32)
            var runStart = 0
            for k in 0..<bytes.count where bytes[k] == 0x0D && (k + 1 == bytes.count || bytes[k + 1] != 0x0A) {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...k]))
                output.append(0x0A)
                runStart = k + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            return Data(output)
        }
    }
}
