import Foundation
import KordonCore
import KordonXML

/// What a receiver could decode out of a part that libclamav takes as text, or out of a
/// text file libclamav unpacked from it: base64, hex or uuencoded files (``EncodedText``). Each is decoded, scanned as a part of
/// its own, and looked into again, a few levels deep (base64 of a text of base64 …).
/// Compressed streams libclamav does not open (bare zlib, zstd, `.lzma`) are the ClamAV
/// stage's own business (`UndecodedStream`), at every depth: not decoded twice here.
extension Pipeline {
    /// Most levels of decoding inside decoding.
    static let maxHiddenDepth = 4

    /// Decodes and scans what `data`, the part at `path` (already scanned as it is),
    /// hides when it is text, and what the text files libclamav unpacked from it (a base64
    /// file in a zip, a gzipped one) hide: what ``EncodedText`` finds in them.
    func scanHiddenPayloads(in data: Data, at path: PartPath, work: inout MessageWork, depth: Int = 0) {
        let unpacked = work.unpackedTextsToDecode
        work.unpackedTextsToDecode = []
        guard depth < Self.maxHiddenDepth else { return }
        // Text, or ASCII with a stray byte in it that makes a sniffer call it binary.
        if EncodedText.isNearlyASCII(data) || TextSniffer.isText(data) {
            let decoded = data.withUnsafeBytes { EncodedText.decodeAll($0.bindMemory(to: UInt8.self)) }
            scanDecoded(decoded, in: path, work: &work, depth: depth)
        }
        for text in unpacked {
            scanDecoded(text.text.withUnsafeBufferPointer { EncodedText.decodeAll($0) }, in: text.path, work: &work, depth: depth)
            scanUnpackedMail(text.text, at: text.path, clamType: text.clamType, work: &work, depth: depth)
        }
    }

    /// Scans what ``EncodedText`` decoded out of the text at `path`, each at
    /// `<path>/decoded:<encoding>`; more than it takes out of one text is `unchecked`.
    private func scanDecoded(_ decoded: (found: [DecodedText], complete: Bool), in path: PartPath, work: inout MessageWork, depth: Int) {
        for item in decoded.found {
            scanDecoded(item.data, at: path.appending("decoded:\(item.encoding.rawValue)"), filename: item.name, work: &work, depth: depth)
        }
        if !decoded.complete {
            work.findings.append(Finding(stage: .unchecked, rule: "kordon.decode-limit", part: path,
                                         detail: "more than \(EncodedText.maxResults) encoded payloads in one text; the rest were not decoded or scanned"))
        }
    }

    /// Scans decoded bytes as a part of their own, keeps them for the rule packs when
    /// they are text, and looks for what they hide in turn.
    private func scanDecoded(_ data: Data, at path: PartPath, filename: String?, work: inout MessageWork, depth: Int) {
        guard !data.isEmpty else { return }
        work.add(engines.clamav.scanCollectingText(data, part: path, filename: filename))
        work.keepIfText(data, at: path)
        scanHiddenPayloads(in: data, at: path, work: &work, depth: depth + 1)
    }
}
