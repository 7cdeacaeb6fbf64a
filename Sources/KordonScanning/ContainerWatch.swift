import Foundation
import KordonCompression

/// Watches, during one scan, whether libclamav opened the containers it met.
///
/// libclamav 1.4 says CLEAN for a container it could not open: a 7z whose coder it lacks
/// (BZip2, Deflate), a RAR (Debian's libclamav has no unrar), a compressed file whose
/// stream it gave up on. It hands every file it unpacks to the file-inspection callback,
/// depth first, right after the container itself, so a container that holds content but
/// is followed by no file one level deeper was not opened. Such a container is reported
/// (a rule mapped to `unchecked`), or, when it is a single compressed stream Kordon can
/// decode itself (gzip, xz), handed back to be decoded and scanned by Kordon.
struct ContainerWatch {
    /// Reported for a container libclamav met and unpacked nothing from.
    static func unopenedRule(_ clamType: String) -> String {
        "Kordon.Archive.Unopened." + clamType.replacingOccurrences(of: "CL_TYPE_", with: "")
    }

    /// A container met and not yet left.
    private struct Open {
        let level: UInt32
        let clamType: String
        /// Its bytes, for a stream Kordon can decode itself should libclamav not have.
        let stream: UndecodedStream?
        var openedSomething = false
    }

    /// Innermost last.
    private var open: [Open] = []

    /// What is found once containers are left: rules to report, streams to decode.
    private(set) var unopened: [String] = []
    private(set) var streams: [UndecodedStream] = []

    /// Takes note of one file libclamav is about to scan, at `level`.
    ///
    /// - Parameter keepBytes: whether the bytes of a compressed stream may be copied
    ///   (the caller's budget for copies).
    mutating func met(level: UInt32, clamType: String, bytes: UnsafeRawBufferPointer?, keepBytes: Bool) {
        leave(above: level)
        if let parent = open.indices.last, open[parent].level + 1 == level { open[parent].openedSomething = true }
        guard let bytes, Self.holdsContent(clamType: clamType, bytes: bytes) else { return }
        let stream = Self.decodable[clamType].flatMap { format in
            keepBytes ? UndecodedStream(format: format, bytes: Data(bytes), mustDecode: true) : nil
        }
        open.append(Open(level: level, clamType: clamType, stream: stream))
    }

    /// Leaves every container still open (the scan is over).
    mutating func finish() {
        leave(above: 0)
    }

    /// Leaves the containers at `level` or deeper: the next file is not inside them.
    private mutating func leave(above level: UInt32) {
        while let last = open.last, last.level >= level {
            open.removeLast()
            guard !last.openedSomething else { continue }
            if let stream = last.stream { streams.append(stream) } else { unopened.append(Self.unopenedRule(last.clamType)) }
        }
    }

    /// The compressed files whose stream Kordon decodes when libclamav did not.
    private static let decodable: [String: Compression] = ["CL_TYPE_GZ": .gzip, "CL_TYPE_XZ": .xz]

    /// Whether a container of this type and these bytes must yield at least one file.
    ///
    /// An empty archive yields none, so each type's test is one that an archive holding
    /// only empty files fails: a 7z whose packed streams are not empty, any RAR, ARJ or
    /// cabinet with room for a member, a gzip or xz stream longer than the empty one.
    static func holdsContent(clamType: String, bytes: UnsafeRawBufferPointer) -> Bool {
        switch clamType {
        case "CL_TYPE_7Z":
            // The signature header: the next header's offset from byte 32 is the packed streams' size.
            guard bytes.count >= 32 else { return false }
            return bytes.loadUnaligned(fromByteOffset: 12, as: UInt64.self).littleEndian > 0
        case "CL_TYPE_RAR":
            return bytes.count > 64
        case "CL_TYPE_ARJ", "CL_TYPE_MSCAB":
            return bytes.count > 128
        case "CL_TYPE_GZ", "CL_TYPE_XZ":
            // The empty stream's size (20 and 32 bytes); a longer one unpacked to nothing is
            // decoded by Kordon, which finds it empty or not, so no size test can be fooled.
            return bytes.count > (clamType == "CL_TYPE_GZ" ? 20 : 32)
        default:
            return false
        }
    }
}
