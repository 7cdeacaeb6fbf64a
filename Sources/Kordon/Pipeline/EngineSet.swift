import Foundation
import KordonCore
import KordonScanning
import KordonXML

/// Everything a scan needs that is expensive to build: the compiled ClamAV
/// engine and the compiled agreed schemas, with the limits they were built for.
///
/// An `EngineSet` is immutable once built and shared by every scanning thread.
/// A reload builds a new one off to the side and swaps it in; scans in flight
/// keep a strong reference to the old set, so no engine is freed under a scan.
public final class EngineSet: Sendable {
    /// The compiled ClamAV engine.
    public let clamav: ClamEngine
    /// The agreed schemas by target namespace.
    public let schemas: SchemaRegistry
    /// The bounds every stage enforces.
    public let limits: Limits
    /// The signature databases that were loaded, in order.
    public let signatureSources: [URL]
    /// The schema directories that were registered, in order.
    public let schemaSources: [URL]

    /// Builds the engines a configuration asks for. Throws a ``KordonError`` that
    /// names the directory or file that failed.
    public init(configuration: Configuration) throws {
        XMLRuntime.initialize()
        let signatureSources = try configuration.signatureDirectories()
        let schemaSources = try configuration.schemaDirectories()
        self.limits = configuration.limits
        self.signatureSources = signatureSources
        self.schemaSources = schemaSources
        self.clamav = try ClamEngine.load(ClamEngineOptions(databases: signatureSources, limits: configuration.limits))
        self.schemas = try SchemaRegistry(directories: schemaSources)
    }

    /// The `engine` object of every report made with this set.
    public var reportEngine: Report.Engine {
        Report.Engine(kordon: KordonVersion.current, clamav: ClamEngine.libraryVersion,
                      signatures: clamav.signatureCount, rules: "")
    }
}
