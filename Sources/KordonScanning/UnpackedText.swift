import Foundation
import KordonCore

/// A text-like file that libclamav unpacked from a container (a zip member, a
/// mail attachment inside an archive), handed to the restricted-data stage.
/// It cannot be edited in place, so its matches are reported (and quarantine per the pack).
public struct UnpackedText: Sendable, Hashable {
    /// Where it is: the scanned part's path plus `unpacked:N`, N counting every file
    /// libclamav unpacked from the part (text or not) from 1, in the order libclamav met
    /// them. The file's name is kept out of the path, which reports show: a name can
    /// itself be restricted data. It is in ``name``.
    public var path: PartPath
    /// The file's text as valid UTF-8, at most ``ClamEngine/maxUnpackedTextBytes`` bytes per
    /// scan in all: UTF-8 (and ASCII) as unpacked, UTF-16 converted, other 8-bit text read
    /// as windows-1251 (the legacy Cyrillic code page most such files in this exchange use;
    /// digits and Latin letters are the same in every such code page).
    public var text: [UInt8]
    /// The file's name as libclamav recorded it (an archive member's name), when known.
    /// May hold restricted data itself: scan it before showing it.
    public var name: String?
    /// libclamav's type for the file (`CL_TYPE_TEXT_ASCII`, `CL_TYPE_HTML`, ...).
    public var clamType: String

    /// Creates an unpacked text.
    public init(path: PartPath, text: [UInt8], name: String? = nil, clamType: String) {
        self.path = path
        self.text = text
        self.name = name
        self.clamType = clamType
    }
}

/// What one scan found, plus the text-like files it unpacked.
public struct ClamScanResult: Sendable {
    /// The findings, as ``ClamEngine/scan(_:part:filename:)`` returns them, plus
    /// `Kordon.Limits.Exceeded.UnpackedText` (`unchecked`, quarantine) when the unpacked
    /// text went past ``ClamEngine/maxUnpackedTextBytes``.
    public var findings: [Finding]
    /// Text-like files unpacked from containers (not the scanned part itself), in the
    /// order libclamav met them; a file whose bytes equal an earlier one's is listed once.
    public var unpackedTexts: [UnpackedText]

    /// Creates a result.
    public init(findings: [Finding], unpackedTexts: [UnpackedText]) {
        self.findings = findings
        self.unpackedTexts = unpackedTexts
    }
}

extension ClamEngine {
    /// Most bytes of unpacked text collected per scan; past it, an `unchecked` finding.
    public static var maxUnpackedTextBytes: Int { 16 * 1024 * 1024 }

    /// Scans like ``scan(_:part:filename:)`` and also collects every text-like file
    /// libclamav unpacks (through its file-inspection callback), so that rule packs
    /// can look inside archives.
    ///
    /// The scan runs with libclamav's metadata collection on
    /// (`CL_SCAN_GENERAL_COLLECT_METADATA`), which makes libclamav skip its clean-file
    /// cache: a container scanned clean before is unpacked again, so its text is
    /// collected every time. Plain scans keep the cache.
    public func scanCollectingText(_ data: Data, part: PartPath, filename: String? = nil) -> ClamScanResult {
        scan(data, part: part, filename: filename, collectingText: Self.maxUnpackedTextBytes)
    }
}
