import Foundation
import KordonCore
import KordonMIME

extension Pipeline {
    /// A text file libclamav unpacked that a mail reader would open as a message (an
    /// `.eml` inside a zip) but libclamav did not take for mail: its own mail parser wants
    /// CRLF or LF lines, so a message with bare CR line ends, which Python's `email` and
    /// Kordon's MIME stage read, is scanned by libclamav as one line of text, and its
    /// attachments are never decoded. Kordon's MIME stage opens it instead; each leaf is
    /// scanned as a part of its own (`<path>/mime/N`), and what it hides is decoded too.
    ///
    /// - Parameters:
    ///   - text: the unpacked file.
    ///   - path: its path (`…/unpacked:N`).
    ///   - clamType: libclamav's type for it; a file libclamav took for mail is left to it,
    ///     unless it has bare CR line ends, which libclamav's mail parser does not read.
    func scanUnpackedMail(_ text: [UInt8], at path: PartPath, clamType: String?, work: inout MessageWork, depth: Int) {
        guard clamType != "CL_TYPE_MAIL" || Self.hasBareCR(text) else { return }
        let data = Data(text)
        guard MIMEMessageParser.looksLikeMIME(data) else { return }
        let parsed = MIMEMessageParser(limits: engines.limits).parse(data)
        work.findings += parsed.findings.map { finding in
            var finding = finding
            finding.part = finding.part == PartPath.message.description ? path.description : "\(path)/\(finding.part)"
            return finding
        }
        for leaf in parsed.leaves {
            let leafPath = PartPath(components: path.components + leaf.part.path.components)
            work.add(engines.clamav.scanCollectingText(leaf.part.data, part: leafPath, filename: leaf.part.filename))
            work.keepIfText(leaf.part.data, at: leafPath)
            scanHiddenPayloads(in: leaf.part.data, at: leafPath, work: &work, depth: depth + 1)
        }
    }

    /// Whether `text` has a CR that no LF follows.
    static func hasBareCR(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { bytes in
            guard var index = bytes.firstIndex(of: 0x0D) else { return false }
            while index < bytes.count {
                if index + 1 == bytes.count || bytes[index + 1] != 0x0A { return true }
                guard let next = bytes[(index + 1)...].firstIndex(of: 0x0D) else { return false }
                index = next
            }
            return false
        }
    }
}
