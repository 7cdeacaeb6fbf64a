import CClamAV

/// The `cl_scan_options` every Kordon scan uses.
///
/// Kept in one place so that what libclamav looks at, and what it alerts on,
/// is decided once and documented.
enum ClamScanOptions {
    /// Database options for `cl_load`: the flags of libclamav's `CL_DB_STDOPT`
    /// macro, which Swift cannot import (it is an expression, not a literal).
    /// `CL_DB_BYTECODE_UNSIGNED` is deliberately absent: unsigned bytecode
    /// can run arbitrary code.
    static let databaseOptions = UInt32(CL_DB_PHISHING | CL_DB_PHISHING_URLS | CL_DB_BYTECODE)

    /// A fresh options value for one scan (libclamav takes a mutable pointer).
    ///
    /// - Parameter collectingText: whether the scan collects unpacked text. Such a scan
    ///   also collects libclamav's metadata (`CL_SCAN_GENERAL_COLLECT_METADATA`), which in
    ///   libclamav 1.4 bypasses the clean-file cache: a container cached as clean by an
    ///   earlier scan would otherwise not be unpacked again, and its text not seen.
    static func make(collectingText: Bool = false) -> cl_scan_options {
        let flags = collectingText ? general | UInt32(CL_SCAN_GENERAL_COLLECT_METADATA) : general
        return cl_scan_options(general: flags, parse: parse, heuristic: heuristic, mail: 0, dev: 0)
    }

    /// All-match mode reports every signature and heuristic through the
    /// virus-found callback instead of stopping at the first; heuristics
    /// must be on for the "could not look inside" alerts below.
    static let general = UInt32(CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS)

    /// Every parser on: a part is only checked if libclamav unpacks it.
    static let parse = UInt32(
        CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_PDF | CL_SCAN_PARSE_SWF
            | CL_SCAN_PARSE_HWP3 | CL_SCAN_PARSE_XMLDOCS | CL_SCAN_PARSE_MAIL | CL_SCAN_PARSE_OLE2
            | CL_SCAN_PARSE_HTML | CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ONENOTE | CL_SCAN_PARSE_IMAGE | CL_SCAN_PARSE_IMAGE_FUZZY_HASH)

    /// The heuristics that make libclamav fail closed:
    ///
    /// - `EXCEEDS_MAX`: without it, a file that hits MaxFileSize, MaxScanSize,
    ///   MaxRecursion, MaxFiles or MaxScanTime is silently reported CLEAN.
    /// - `ENCRYPTED_ARCHIVE`, `ENCRYPTED_DOC`: content libclamav cannot
    ///   decrypt would otherwise pass as CLEAN.
    ///
    /// Left off on purpose: `BROKEN` (flags legitimate but slightly malformed
    /// PE/ELF files, common among in-house tools), `BROKEN_MEDIA` (the same for
    /// scanned images, which customs attachments are full of), `MACROS` (every
    /// legacy Office form with a macro would be quarantined), the phishing
    /// heuristics (they judge link text in mail bodies, not malware) and the
    /// `STRUCTURED` (credit card / US SSN) detectors, which the national rule
    /// packs replace. Each of those causes false positives on legitimate customs
    /// documents; none of them is about a part that could not be checked.
    static let heuristic = UInt32(
        CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC)
}
