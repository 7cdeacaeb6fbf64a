import CGMime
import Foundation

/// Converts text from a declared charset to UTF-8 with GMime's charset filter (iconv).
///
/// Every GMime stream and filter is created and released inside ``utf8(_:from:)``;
/// none outlives the call.
enum GMimeCharsetConverter {
    /// `data` converted from `charset` to UTF-8; `nil` when iconv does not know the
    /// charset. Byte sequences that are invalid in `charset` are skipped (GMime's
    /// filter drops them and carries on), so the result is always valid UTF-8.
    static func utf8(_ data: Data, from charset: String) -> Data? {
        GMimeRuntime.ensureInitialized()
        guard !charset.isEmpty, let filter = g_mime_filter_charset_new(charset, "UTF-8") else { return nil }
        defer { g_object_unref(filter) }
        guard !data.isEmpty else { return Data() }
        guard let sink = g_mime_stream_mem_new() else { return nil }
        defer { g_object_unref(sink) }
        guard let filtered = g_mime_stream_filter_new(sink) else { return nil }
        defer { g_object_unref(filtered) }
        guard let filterStream = kordon_as_stream_filter(filtered) else { return nil }
        _ = g_mime_stream_filter_add(filterStream, filter)
        let written = data.withUnsafeBytes { raw -> Int in
            g_mime_stream_write(filtered, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        // Flushing pushes out what the filter still holds (an incomplete last sequence).
        guard written == data.count, g_mime_stream_flush(filtered) == 0,
              let array = kordon_stream_mem_bytes(sink) else { return nil }
        let count = Int(array.pointee.len)
        guard count > 0, let bytes = array.pointee.data else { return Data() }
        return Data(bytes: bytes, count: count)
    }
}

extension GMimeCharsetConverter {
    /// Names under which text is UTF-8 or plain ASCII.
    private static let utf8Names: Set<String> = ["utf-8", "utf8"]
    private static let asciiNames: Set<String> = ["", "us-ascii", "ascii", "ansi_x3.4-1968"]

    /// A body's (or a header's) text as valid UTF-8.
    ///
    /// - UTF-8: the bytes, with invalid sequences replaced by U+FFFD (as mail readers show them).
    /// - No charset or ASCII: the bytes when they are valid UTF-8 (what most mailers send
    ///   without saying), otherwise windows-1251, the legacy Cyrillic code page of this
    ///   exchange (ASCII digits and letters read the same in it).
    /// - A charset iconv knows (`windows-1251`, `koi8-r`, `utf-16`): converted by GMime.
    /// - A charset iconv does not know: the raw bytes, with invalid UTF-8 replaced by
    ///   U+FFFD; identifiers in ASCII digits and Latin letters are still there to find.
    static func utf8Text(_ data: Data, declaredCharset: String?) -> [UInt8] {
        let name = (declaredCharset ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if asciiNames.contains(name) {
            if let text = String(data: data, encoding: .utf8) { return Array(text.utf8) }
            if let converted = utf8(data, from: "windows-1251") { return Array(converted) }
        } else if !utf8Names.contains(name), let converted = utf8(data, from: name) {
            return Array(converted)
        }
        return Array(String(decoding: data, as: UTF8.self).utf8)
    }
}
