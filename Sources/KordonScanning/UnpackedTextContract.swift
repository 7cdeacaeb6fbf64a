// CONTRACT STUB — the public API the redaction stage is written against.
// The MIME-editing helper replaces this with the real implementation, keeping these signatures.
import Foundation
import KordonCore

/// A text-like file that libclamav unpacked from a container (a zip member, a
/// mail attachment inside an archive), handed to the restricted-data stage.
/// It cannot be edited in place, so its matches are reported (and quarantine per the pack).
public struct UnpackedText: Sendable, Hashable {
    /// Where it is: the scanned part's path plus `unpacked:N` (N counts unpacked files
    /// from 1 in the order libclamav met them) and the file's name when libclamav knows it.
    public var path: PartPath
    /// The file's text as unpacked (UTF-8 or ASCII; UTF-16 converted to UTF-8), at most
    /// ``ClamEngine/maxUnpackedTextBytes`` bytes per scan in all.
    public var text: [UInt8]
}

/// What one scan found, plus the text-like files it unpacked.
public struct ClamScanResult: Sendable {
    /// The findings, as ``ClamEngine/scan(_:part:filename:)`` returns them.
    public var findings: [Finding]
    /// Text-like files unpacked from containers (not the scanned part itself).
    public var unpackedTexts: [UnpackedText]
}

extension ClamEngine {
    /// Most bytes of unpacked text collected per scan; past it, an `unchecked` finding.
    public static var maxUnpackedTextBytes: Int { 16 * 1024 * 1024 }

    /// Scans like ``scan(_:part:filename:)`` and also collects every text-like file
    /// libclamav unpacks (through its file-inspection callback), so that rule packs
    /// can look inside archives.
    public func scanCollectingText(_ data: Data, part: PartPath, filename: String? = nil) -> ClamScanResult {
        fatalError("contract stub")
    }
}
