import Foundation
import KordonCore
import KordonRules

extension Pipeline {
    /// Opaque content: ClamAV (which unpacks archives; their text files are read by
    /// the rule packs), what a receiver could decode out of it (a text file of base64 or
    /// uuencode, a bare zlib stream: see ``scanHiddenPayloads(in:at:work:depth:)``), and
    /// the rule packs over the content itself when it is text.
    func filterOpaque(_ data: Data, work: inout MessageWork) -> Data? {
        work.add(engines.clamav.scanCollectingText(data, part: .message))
        scanHiddenPayloads(in: data, at: .message, work: &work)
        guard TextSniffer.isText(data), let rules = work.chooseRules(engines) else { return nil }
        let (findings, replaced) = TextRedactor(rules: rules, mode: mode)
            .redact([UInt8](data), part: .message, context: "", place: .editable)
        work.findings += findings
        return replaced.map { Data($0) }
    }
}
