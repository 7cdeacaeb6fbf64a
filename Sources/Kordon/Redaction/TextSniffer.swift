import Foundation

/// Decides whether bytes are text the restricted-data stage should read: valid
/// UTF-8 without NUL bytes and with few control characters.
///
/// A base64 payload or an opaque message that is text (a `.txt` attachment, a CSV
/// file) holds identifiers as readily as an XML element does.
enum TextSniffer {
    /// Whether `data` reads as UTF-8 text.
    static func isText(_ data: Data) -> Bool {
        guard !data.isEmpty else { return false }
        var controls = 0
        for byte in data.prefix(64 * 1024) {
            if byte == 0 { return false }
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D, byte != 0x0C { controls += 1 }
        }
        guard controls * 100 <= min(data.count, 64 * 1024) else { return false }
        return String(validating: data, as: UTF8.self) != nil
    }
}
