import Foundation
import KordonCore
import KordonXML

/// What a receiver could decode out of a part that libclamav takes as text: base64,
/// hex or uuencoded files in it (``EncodedText``). Each is decoded, scanned as a part of
/// its own, and looked into again, a few levels deep (base64 of a text of base64 …).
/// Compressed streams libclamav does not open (bare zlib, zstd, `.lzma`) are the ClamAV
/// stage's own business (`UndecodedStream`), at every depth: not decoded twice here.
extension Pipeline {
    /// Most levels of decoding inside decoding.
    static let maxHiddenDepth = 4

    /// Decodes and scans what `data`, the part at `path` (already scanned as it is),
    /// hides when it is text: what ``EncodedText`` finds in it.
    func scanHiddenPayloads(in data: Data, at path: PartPath, work: inout MessageWork, depth: Int = 0) {
        guard depth < Self.maxHiddenDepth, TextSniffer.isText(data) else { return }
        for item in EncodedText.decode(data) {
            scanDecoded(item.data, at: path.appending("decoded:\(item.encoding.rawValue)"), filename: item.name,
                        work: &work, depth: depth)
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
