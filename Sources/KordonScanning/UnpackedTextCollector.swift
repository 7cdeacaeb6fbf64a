import CClamAV
import Foundation
import KordonCore

/// Collects the text-like files libclamav unpacks during one scan.
///
/// Owned by the scan's ``ClamMatchCollector`` and called from libclamav's
/// file-inspection callback, on the scanning thread only.
final class UnpackedTextCollector {
    /// The rule reported when the unpacked text of one scan is larger than the budget.
    static let limitRule = "Kordon.Limits.Exceeded.UnpackedText"
    /// The rule reported when libclamav hands over a text file without its bytes.
    static let unreadableRule = "Kordon.Unreadable.UnpackedText"

    /// libclamav 1.4 types whose files are text: plain text (libclamav calls 8-bit text
    /// "ASCII"; CSV, JSON and XML files come as text types too), HTML, a mail message
    /// (its headers and undecoded bodies; libclamav also unpacks its decoded parts), and
    /// Office 2003 XML. RTF, PDF and Office binaries are left out: their text is not
    /// plain in the file, and an embedded image would fill the budget with hex.
    static let textTypes: Set<String> = [
        "CL_TYPE_TEXT_ASCII", "CL_TYPE_TEXT_UTF8", "CL_TYPE_TEXT_UTF16LE", "CL_TYPE_TEXT_UTF16BE",
        "CL_TYPE_HTML", "CL_TYPE_HTML_UTF16", "CL_TYPE_MAIL", "CL_TYPE_XML_WORD", "CL_TYPE_XML_XL", "CL_TYPE_XML_HWP",
    ]

    private let part: PartPath
    private let budget: Int
    private var used = 0
    private var unpackedCount = 0
    /// Set once the budget is spent: nothing more is collected.
    private(set) var exceeded = false
    private(set) var texts: [UnpackedText] = []
    /// Indices into `texts` by hash of the text, to list identical files once
    /// (libclamav meets the parts of an Office document twice, for one).
    private var seen: [Int: [Int]] = [:]

    /// - Parameters:
    ///   - part: the path of the scanned part.
    ///   - budget: most bytes of text to collect.
    init(part: PartPath, budget: Int) {
        self.part = part
        self.budget = budget
    }

    /// Looks at one unpacked file (recursion level above 0), whose `bytes` are the whole
    /// file. Returns a rule to report when the file's text could not be collected: the
    /// budget is spent (reported once; nothing more is collected), or libclamav gave no bytes.
    func inspect(type: String, name: String?, bytes: UnsafeRawBufferPointer?, attributes: UInt32) -> String? {
        unpackedCount += 1
        guard !exceeded, Self.textTypes.contains(type) else { return nil }
        // A normalized layer is libclamav's rewrite of a file already met (HTML folded to
        // lowercase, whitespace squeezed): its text is the original's.
        guard attributes & UInt32(LAYER_ATTRIBUTES_NORMALIZED) == 0 else { return nil }
        guard let bytes else { return Self.unreadableRule }
        guard !bytes.isEmpty else { return nil }
        let remaining = budget - used
        // UTF-16 is the only input that shrinks in UTF-8, to half at most: skip converting
        // a file that cannot fit.
        guard bytes.count <= remaining * 2 else { return overBudget() }
        let text = Self.utf8(bytes, type: type)
        guard text.count <= remaining else { return overBudget() }
        let key = text.hashValue
        if let earlier = seen[key], earlier.contains(where: { texts[$0].text == text }) { return nil }
        used += text.count
        seen[key, default: []].append(texts.count)
        texts.append(UnpackedText(path: part.appending("unpacked:\(unpackedCount)"), text: text, name: name, clamType: type))
        return nil
    }

    private func overBudget() -> String {
        exceeded = true
        return Self.limitRule
    }

    /// The file's text as valid UTF-8 (see ``UnpackedText/text``).
    static func utf8(_ bytes: UnsafeRawBufferPointer, type: String) -> [UInt8] {
        switch type {
        case "CL_TYPE_TEXT_UTF16LE", "CL_TYPE_TEXT_UTF16BE", "CL_TYPE_HTML_UTF16":
            return utf16(bytes, bigEndian: type == "CL_TYPE_TEXT_UTF16BE")
        default:
            let data = Data(bytes)
            if let text = String(data: data, encoding: .utf8) { return Array(text.utf8) }
            if let text = String(data: data, encoding: .windowsCP1251) { return Array(text.utf8) }
            return Array(String(decoding: data, as: UTF8.self).utf8)
        }
    }

    /// UTF-16 in the byte order a byte-order mark gives, else `bigEndian`; unpaired
    /// surrogates become U+FFFD.
    private static func utf16(_ bytes: UnsafeRawBufferPointer, bigEndian: Bool) -> [UInt8] {
        var start = 0
        var big = bigEndian
        if bytes.count >= 2 {
            if bytes[0] == 0xFF && bytes[1] == 0xFE { start = 2; big = false }
            else if bytes[0] == 0xFE && bytes[1] == 0xFF { start = 2; big = true }
        }
        var units: [UInt16] = []
        units.reserveCapacity((bytes.count - start) / 2)
        var index = start
        while index + 1 < bytes.count {
            let first = UInt16(bytes[index]), second = UInt16(bytes[index + 1])
            units.append(big ? first << 8 | second : second << 8 | first)
            index += 2
        }
        return Array(String(decoding: units, as: UTF16.self).utf8)
    }
}
