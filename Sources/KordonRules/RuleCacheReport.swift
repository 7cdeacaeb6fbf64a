/// What the compiled-database cache did while a ``RuleLibrary`` loaded (see
/// ``RuleLibrary/load(directories:pseudonymKey:cacheDirectory:)``), for a start-up log line.
public struct RuleCacheReport: Sendable, Equatable, CustomStringConvertible {
    /// Hyperscan databases read from the cache instead of compiled.
    public var loaded = 0
    /// Hyperscan databases compiled: not in the cache, refused, or no usable cache.
    public var compiled = 0
    /// Cache files found but not trusted (wrong owner or permissions, damaged,
    /// truncated, failing their HMAC, made by another Hyperscan or for another CPU);
    /// each was recompiled and, when possible, replaced.
    public var refused = 0
    /// Cache files written.
    public var written = 0
    /// Why the cache could not be used at all (every database was compiled); `nil` when it was used.
    public var unavailable: String?
    /// One line per refused file: its path and why.
    public var problems: [String] = []

    /// Creates an empty report.
    public init() {}

    /// `rule cache: 4 loaded, 0 compiled, 0 refused, 0 written`, or why it was not used.
    public var description: String {
        if let unavailable { return "rule cache not used: \(unavailable)" }
        return "rule cache: \(loaded) loaded, \(compiled) compiled, \(refused) refused, \(written) written"
    }
}
