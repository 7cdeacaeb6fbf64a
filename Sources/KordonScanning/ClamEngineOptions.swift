import Foundation
import KordonCore

/// Where the ClamAV engine loads its signatures from, and the limits it scans with.
public struct ClamEngineOptions: Sendable {
    /// Signature directories (or single database files), loaded in order.
    public var databases: [URL]
    /// Scan limits; libclamav's fail-open limits are reported as `unchecked`.
    public var limits: Limits
    /// Where libclamav makes its per-scan scratch directories; `nil`: `$TMPDIR`, else `/tmp`.
    public var temporaryDirectory: String?
    /// Creates options.
    public init(databases: [URL], limits: Limits = Limits(), temporaryDirectory: String? = nil) {
        self.databases = databases
        self.limits = limits
        self.temporaryDirectory = temporaryDirectory
    }
}

/// One database path an engine loaded, and how many signatures it gave.
public struct ClamDatabase: Sendable, Equatable {
    /// The directory or file as configured.
    public var url: URL
    /// Signatures loaded from it (libclamav's count; may be 0 for a directory
    /// that holds no database, which `kordon config check` should warn about).
    public var signatureCount: Int
    /// Creates a description.
    public init(url: URL, signatureCount: Int) {
        self.url = url
        self.signatureCount = signatureCount
    }
}
