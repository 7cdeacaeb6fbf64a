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
    /// Charset names whose text is read as UTF-8 directly: UTF-8 itself and ASCII, whose
    /// 8-bit bytes (sent anyway by many mailers) are most often UTF-8.
    private static let utf8Compatible: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968"]

    /// A body's text as valid UTF-8.
    ///
    /// - No charset, UTF-8 or ASCII: the bytes, with invalid UTF-8 sequences replaced by
    ///   U+FFFD (as mail readers show them).
    /// - A charset iconv knows (`windows-1251`, `koi8-r`, `utf-16`): converted by GMime.
    /// - A charset iconv does not know: the raw bytes, with invalid UTF-8 replaced by
    ///   U+FFFD — identifiers in ASCII digits and Latin letters are still there to find.
    static func utf8Text(_ data: Data, declaredCharset: String?) -> [UInt8] {
        let name = (declaredCharset ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if !name.isEmpty, !utf8Compatible.contains(name), let converted = utf8(data, from: name) {
            return Array(converted)
        }
        return Array(String(decoding: data, as: UTF8.self).utf8)
    }
}
