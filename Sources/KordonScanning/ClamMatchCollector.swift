import CClamAV
import Foundation
import KordonCompression

/// Collects what libclamav reports during one scan.
///
/// One collector per scan, passed to libclamav as the scan's context pointer
/// and handed back to the engine-wide callbacks below. libclamav calls them
/// synchronously on the scanning thread, so a collector is never touched by
/// two threads.
final class ClamMatchCollector {
    /// The rule Kordon reports for an unpacked file that libclamav may have cut short.
    static let truncatedRule = "Kordon.Limits.Exceeded.MaxFileSize"

    /// How far below MaxFileSize an unpacked file counts as possibly cut short.
    ///
    /// libclamav's zip unpacker (and possibly others) silently *trims* a
    /// member to MaxFileSize instead of raising `Heuristics.Limits.Exceeded`:
    /// it inflates in 8 KB steps and stops writing before the step that would
    /// pass the limit, then scans what it has and calls it clean. A virus
    /// past the cut is never seen. So an unpacked file within this margin of
    /// the limit is reported as not fully checked. 64 KB leaves room for
    /// parsers with larger buffers; at the default 200 MB limit, a legitimate
    /// file that close to the limit is vanishingly rare, and quarantining it
    /// is the safe mistake.
    static let truncationMargin = 64 * 1024

    /// Names in the order libclamav reported them, each once.
    private(set) var names: [String] = []
    private var seen: Set<String> = []
    /// An unpacked file at least this big may have been cut short.
    private let truncationThreshold: Int
    /// The engine's MaxFileSize: the most a stream is decoded to.
    private let maxFileSize: Int
    /// Whether the inspection callback flagged a file; libclamav then reports
    /// a generic `Detected.By.Callback...` name for it that we do not repeat.
    private var flaggedByInspection = false
    /// Collects unpacked text files, for a scan that asked for them.
    let textCollector: UnpackedTextCollector?
    /// Compressed streams libclamav met but does not decode, copied out for Kordon to
    /// decode and scan once libclamav is done (see ``UndecodedStream``).
    private(set) var undecodedStreams: [UndecodedStream] = []
    private var undecodedBytes = 0
    /// Whether libclamav opened the containers it met.
    private var containers = ContainerWatch()

    /// - Parameters:
    ///   - maxFileSize: the engine's MaxFileSize.
    ///   - textCollector: collects the text files libclamav unpacks, or `nil`.
    init(maxFileSize: Int, textCollector: UnpackedTextCollector? = nil) {
        truncationThreshold = max(0, maxFileSize - Self.truncationMargin)
        self.maxFileSize = maxFileSize
        self.textCollector = textCollector
    }

    /// Records a name unless it was already recorded in this scan.
    func record(_ name: String) {
        if flaggedByInspection && name.hasPrefix("Detected.By.Callback") { return }
        guard seen.insert(name).inserted else { return }
        names.append(name)
    }

    /// Decides about one file libclamav is about to scan; `true` flags it.
    ///
    /// - Parameters:
    ///   - size: the file's size.
    ///   - recursionLevel: 0 for the scanned part itself, more for what libclamav unpacked.
    ///   - file: the file's type, name, bytes and layer attributes.
    func inspect(size: Int, recursionLevel: UInt32,
                 file: () -> (type: String, name: String?, bytes: UnsafeRawBufferPointer?, attributes: UInt32)
                     = { ("", nil, nil, 0) }) -> Bool {
        let described = file()
        // The top level is the part itself: the MIME and XML stages read its text.
        if recursionLevel > 0, let textCollector,
           let rule = textCollector.inspect(type: described.type, name: described.name,
                                            bytes: described.bytes, attributes: described.attributes) {
            // Not flagged to libclamav: the file is still scanned for viruses.
            record(rule)
        }
        containers.met(level: recursionLevel, clamType: described.type, bytes: described.bytes,
                       keepBytes: size <= UndecodedStream.maxBytesPerScan - undecodedBytes)
        if let bytes = described.bytes {
            if let format = UndecodedStream.format(of: bytes, clamType: described.type) {
                keepUndecoded(UndecodedStream(format: format, bytes: Data(bytes)))
            } else if let stream = UndecodedStream.rawDeflate(bytes, clamType: described.type, limit: maxFileSize) {
                keepUndecoded(stream)
            }
        }
        // A zip that libclamav would read otherwise than the receiver's unzip: flagged,
        // so that libclamav caches neither it nor its parents as clean.
        if Self.zipTypes.contains(described.type), let bytes = described.bytes {
            var (problems, zip64Members) = ZipAudit.audit(bytes)
            // Members libclamav cannot read only for their zip64 local header (what Info-ZIP
            // writes for a file read from a pipe) are unpacked by Kordon and scanned instead.
            if problems.contains(.zip64LocalSizes), let unpacked = unpack(zip64Members, of: bytes) {
                problems.remove(.zip64LocalSizes)
                unpacked.forEach(keepUndecoded)
            }
            if !problems.isEmpty {
                problems.map(\.rule).sorted().forEach(record)
                flaggedByInspection = true
                return true
            }
        }
        // The top level is also never trimmed by libclamav; it raises
        // Heuristics.Limits.Exceeded.MaxFileSize for it instead.
        guard recursionLevel > 0, size >= truncationThreshold else { return false }
        flaggedByInspection = true
        record(Self.truncatedRule)
        return true
    }

    /// Copies a stream out for decoding after the scan, within ``UndecodedStream`` bounds;
    /// past them the part is reported as not fully checked.
    private func keepUndecoded(_ stream: UndecodedStream) {
        guard undecodedStreams.count < UndecodedStream.maxPerScan,
              stream.bytes.count + (stream.decoded?.count ?? 0) <= UndecodedStream.maxBytesPerScan - undecodedBytes else {
            record(UndecodedStream.limitRule)
            return
        }
        undecodedBytes += stream.bytes.count + (stream.decoded?.count ?? 0)
        undecodedStreams.append(stream)
    }

    /// The members of a zip unpacked by Kordon (stored, deflate, bzip2), each at most
    /// MaxFileSize; `nil` when one of them cannot be, and the zip stays not vouched for.
    private func unpack(_ members: [ZipAudit.Member], of zip: UnsafeRawBufferPointer) -> [UndecodedStream]? {
        var streams: [UndecodedStream] = []
        for member in members {
            let data = UnsafeRawBufferPointer(rebasing: zip[member.data])
            let format: Compression
            switch member.method {
            case 0:
                streams.append(UndecodedStream(format: .rawDeflate, bytes: Data(), decoded: Data(data), label: "zip-member"))
                continue
            case 8: format = .rawDeflate
            case 12: format = .bzip2
            default: return nil
            }
            guard case .decoded(let decoded) = Decompressor.decode(data, as: format, limit: maxFileSize) else { return nil }
            streams.append(UndecodedStream(format: format, bytes: Data(), decoded: decoded, label: "zip-member"))
        }
        return streams
    }

    /// Called once libclamav's scan has returned: the containers it did not open are
    /// reported, or their streams kept for Kordon to decode.
    ///
    /// A container left unopened because libclamav hit a limit or met encryption is
    /// already reported by libclamav's own heuristic, which says why: nothing is added.
    func finish() {
        containers.finish()
        guard !names.contains(where: { name in ClamFindingMapper.uncheckedPrefixes.contains { name.hasPrefix($0.prefix) } })
        else { return }
        containers.unopened.forEach(record)
        containers.streams.forEach(keepUndecoded)
    }

    /// libclamav's types for files it opens with its zip unpacker.
    static let zipTypes: Set<String> = [
        "CL_TYPE_ZIP", "CL_TYPE_OOXML_WORD", "CL_TYPE_OOXML_PPT", "CL_TYPE_OOXML_XL", "CL_TYPE_OOXML_HWP",
    ]

    /// The engine-wide virus-found callback (`clcb_virus_found`).
    ///
    /// It captures nothing (a C function pointer cannot), and finds the scan's
    /// collector through the context pointer instead.
    static let virusFound: clcb_virus_found = { _, virname, context in
        guard let context, let virname else { return }
        let collector = Unmanaged<ClamMatchCollector>.fromOpaque(context).takeUnretainedValue()
        collector.record(String(cString: virname))
    }

    /// The engine-wide file-inspection callback (`clcb_file_inspection`),
    /// called for every file libclamav unpacks, before libclamav looks the
    /// file up in its clean cache (libclamav 1.4 `cli_magic_scan`), so a
    /// cached file cannot skip it. A flagged file is reported to libclamav
    /// as infected, so that libclamav does not cache its parent as clean
    /// (a cached parent would skip this check on its next scan); libclamav
    /// then skips scanning it, which is fine: it is quarantined either way.
    ///
    /// libclamav passes the whole file: `fileBuffer` holds `fileSize` bytes (1.4
    /// `dispatch_file_inspection_callback` maps the file from offset 0 to its length),
    /// valid for the duration of the call only, so text is copied out here.
    static let fileInspection: clcb_file_inspection = {
        _, type, _, _, fileName, fileSize, fileBuffer, recursionLevel, attributes, context in
        guard let context else { return CL_CLEAN }
        let collector = Unmanaged<ClamMatchCollector>.fromOpaque(context).takeUnretainedValue()
        let flagged = collector.inspect(size: fileSize, recursionLevel: recursionLevel) {
            (type: type.map { String(cString: $0) } ?? "",
             name: fileName.map { String(cString: $0) },
             bytes: fileBuffer.map { UnsafeRawBufferPointer(start: $0, count: fileSize) },
             attributes: attributes)
        }
        return flagged ? CL_VIRUS : CL_CLEAN
    }
}
