import Foundation
import KordonCore
import KordonCrypto
import KordonRules
import KordonScanning
import KordonXML

/// Everything a scan needs that is expensive to build: the compiled ClamAV
/// engine, the compiled agreed schemas and the loaded rule packs, with the
/// limits they were built for.
///
/// An `EngineSet` is immutable once built and shared by every scanning thread.
/// A reload builds a new one off to the side and swaps it in; scans in flight
/// keep a strong reference to the old set, so no engine is freed under a scan.
public final class EngineSet: Sendable {
    /// The compiled ClamAV engine.
    public let clamav: ClamEngine
    /// The agreed schemas by target namespace.
    public let schemas: SchemaRegistry
    /// Containers and attachment elements of the agreed formats.
    public let xmlFormats: XMLFormats
    /// The national rule packs (each route's rule set is compiled once, on first use).
    public let rules: RuleLibrary
    /// Where documents name their route.
    public let routeSources: [RulesConfiguration.RouteSource]
    /// The bounds every stage enforces.
    public let limits: Limits
    /// The signature databases that were loaded, in order.
    public let signatureSources: [URL]
    /// The schema directories that were registered, in order.
    public let schemaSources: [URL]
    /// The rule-pack directories that were loaded, in order.
    public let ruleSources: [URL]

    /// Builds the engines a configuration asks for. Throws a ``KordonError`` that
    /// names the directory or file that failed.
    public init(configuration: Configuration) throws {
        XMLRuntime.initialize()
        let signatureSources = try configuration.signatureDirectories()
        let schemaSources = try configuration.schemaDirectories()
        let ruleSources = try configuration.ruleDirectories()
        self.limits = configuration.limits
        self.signatureSources = signatureSources
        self.schemaSources = schemaSources
        self.ruleSources = ruleSources
        self.routeSources = configuration.rules.routes
        self.clamav = try ClamEngine.load(ClamEngineOptions(databases: signatureSources, limits: configuration.limits,
                                                            temporaryDirectory: configuration.scan.temporaryDirectory))
        self.schemas = try SchemaRegistry(directories: schemaSources)
        self.xmlFormats = configuration.schemas.formats
        let rulesConfiguration = configuration.rules
        let cache = rulesConfiguration.cache
            ? URL(fileURLWithPath: rulesConfiguration.cacheDirectory ?? RulesConfiguration.defaultCacheDirectory()) : nil
        self.rules = try RuleLibrary.load(directories: ruleSources,
                                          pseudonymKey: try Self.pseudonymKey(rulesConfiguration), cacheDirectory: cache)
        for route in routeSources {
            try route.checkNamespaces()
            for (id, xpath) in [("from", route.from), ("to", route.to)] {
                try XMLSelector(id: "rules.routes \(route.namespace) \(id)", xpath: xpath,
                                namespaces: route.prefixes.mapValues { [$0] }).check()
            }
        }
    }

    /// The pseudonym key: the configured file (an error when it cannot be read or
    /// created), or the default file, created on first use. Without a usable
    /// default file, `pseudonymize` masks instead.
    private static func pseudonymKey(_ rules: RulesConfiguration) throws -> HMACSHA256? {
        if let path = rules.pseudonymKeyFile {
            return try HMACSHA256(key: KeyFile.loadOrCreate(at: path))
        }
        guard let key = try? KeyFile.loadOrCreate(at: RulesConfiguration.defaultPseudonymKeyFile()) else { return nil }
        return try HMACSHA256(key: key)
    }

    /// The `engine` object of every report made with this set; `rules` names the
    /// packs in force for the message.
    public func reportEngine(rules: String = "") -> Report.Engine {
        Report.Engine(kordon: KordonVersion.current, clamav: ClamEngine.libraryVersion,
                      signatures: clamav.signatureCount, rules: rules)
    }
}
