// CONTRACT STUB — replaced by the real implementation.
import Foundation
import KordonCore
import CClamAV

/// Where the ClamAV engine loads its signatures from, and the limits it scans with.
public struct ClamEngineOptions: Sendable {
    /// Signature directories (or single database files), loaded in order.
    public var databases: [URL]
    /// Scan limits; libclamav's fail-open limits are reported as `unchecked`.
    public var limits: Limits
    /// Creates options.
    public init(databases: [URL], limits: Limits = Limits()) {
        self.databases = databases
        self.limits = limits
    }
}

/// One compiled libclamav engine, shared by every scanning thread.
public final class ClamEngine: @unchecked Sendable {
    /// Loads and compiles an engine. Throws a ``KordonError`` naming the database that failed.
    public static func load(_ options: ClamEngineOptions) throws -> ClamEngine { fatalError("stub") }
    /// Signatures loaded.
    public var signatureCount: Int { 0 }
    /// libclamav's version, e.g. `1.4.6`.
    public static var libraryVersion: String { "" }
    /// Scans one decoded part; every match, heuristic and error becomes a finding at `part`.
    public func scan(_ data: Data, part: PartPath, filename: String? = nil) -> [Finding] { [] }
}
