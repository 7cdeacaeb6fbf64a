import Foundation

/// Which Content-Transfer-Encoding a leaf gets when its content is replaced.
///
/// base64, quoted-printable and uuencode carry any bytes and are kept. A leaf sent
/// without an encoding (7bit, 8bit, binary or none) keeps it only while the new content
/// is still 7-bit safe; otherwise (a masked value with `•`, say) it becomes
/// quoted-printable, so a message that was 7-bit clean stays so. An unknown encoding
/// is replaced by quoted-printable: receivers would not know how to decode it.
enum MIMEBodyEncoding {
    /// The encoding to switch to, or `nil` to keep the current one.
    static func replacement(for current: TransferEncoding, content: Data) -> TransferEncoding? {
        switch current {
        case .base64, .quotedPrintable, .uuencode:
            return nil
        case .unknown:
            return .quotedPrintable
        case .absent, .identity:
            return isSevenBitSafe(content) ? nil : .quotedPrintable
        }
    }

    /// RFC 2045 2.7 "7bit data": ASCII without NUL, CR only before LF, lines of at most
    /// 998 octets. A bare LF counts as a line break: GMime writes the message's own
    /// line breaks when it serializes.
    static func isSevenBitSafe(_ content: Data) -> Bool {
        var lineLength = 0
        var previousWasCR = false
        for byte in content {
            if previousWasCR && byte != 0x0A { return false }
            previousWasCR = false
            switch byte {
            case 0x00, 0x80...0xFF:
                return false
            case 0x0D:
                previousWasCR = true
            case 0x0A:
                lineLength = 0
            default:
                lineLength += 1
                if lineLength > 998 { return false }
            }
        }
        return !previousWasCR
    }
}
