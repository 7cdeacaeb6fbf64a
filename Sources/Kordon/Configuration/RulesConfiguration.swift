import Foundation
import KordonCore

/// How the restricted-data stage runs: which rule packs, which key, how a route
/// is read from a document.
///
/// ```yaml
/// rules:
///   builtin: true                    # Kordon's own rules/ (KZ, RU, BY, KG, AM, EAEU)
///   directories: [/srv/kordon/rules] # further packs
///   pseudonymKeyFile: /etc/kordon/pseudonym.key
///   cache: true                      # keep compiled Hyperscan databases on disk
///   cacheDirectory: /var/cache/kordon/hyperscan
///   routes:                          # where a document names its sending and receiving state
///     - namespace: urn:EEC:R:055:GoodsDeclaration:v1.1.0
///       prefixes: {gd: "urn:EEC:R:055:GoodsDeclaration:v1.1.0"}
///       from: /gd:GoodsDeclaration/gd:ExportCountryCode
///       to: /gd:GoodsDeclaration/gd:ImportCountryCode
/// ```
public struct RulesConfiguration: Sendable, Equatable {
    /// Where one document family names its route: XPaths to the sending and
    /// receiving state's two-letter code.
    public struct RouteSource: Sendable, Equatable {
        /// The root element's namespace this applies to.
        public var namespace: String
        /// Prefix → namespace URI, for the two expressions.
        public var prefixes: [String: String]
        /// XPath to the sending state's code.
        public var from: String
        /// XPath to the receiving state's code.
        public var to: String

        /// Creates a route source.
        public init(namespace: String, prefixes: [String: String], from: String, to: String) {
            self.namespace = namespace
            self.prefixes = prefixes
            self.from = from
            self.to = to
        }
    }

    /// Load Kordon's own `rules/`.
    public var builtin = true
    /// Further pack directories.
    public var directories: [String] = []
    /// The HMAC key for `pseudonymize`; `nil` means ``defaultPseudonymKeyFile``.
    /// Created with mode 0600 on first use when missing.
    public var pseudonymKeyFile: String?
    /// Keep compiled Hyperscan databases on disk, so a start (a `kordon filter` per
    /// message) loads them in milliseconds instead of compiling for a second.
    public var cache = true
    /// Where; `nil` means ``defaultCacheDirectory(environment:)``. Files there are
    /// sealed with a key kept beside them and refused unless owned by this user.
    public var cacheDirectory: String?
    /// Where documents name their route, by root namespace.
    public var routes: [RouteSource] = RulesConfiguration.builtinRoutes

    /// The defaults.
    public init() {}

    /// The route sources of Kordon's own sample schemas.
    public static let builtinRoutes: [RouteSource] = [
        RouteSource(namespace: "urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0",
                    prefixes: ["gd": "urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0"],
                    from: "/gd:GoodsDeclaration/gd:ExportCountryCode",
                    to: "/gd:GoodsDeclaration/gd:ImportCountryCode"),
        RouteSource(namespace: "urn:kordon:sample:EEC:Interaction:v1.0",
                    prefixes: ["int": "urn:kordon:sample:EEC:Interaction:v1.0"],
                    from: "/int:Envelope/int:InteractionHeader/int:From",
                    to: "/int:Envelope/int:InteractionHeader/int:To"),
    ]

    /// `$XDG_CACHE_HOME/kordon/hyperscan`, or `~/.cache/kordon/hyperscan`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/kordon/hyperscan" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/kordon/hyperscan"
    }

    /// `$XDG_STATE_HOME/kordon/pseudonym.key`, or `~/.local/state/kordon/pseudonym.key`.
    public static func defaultPseudonymKeyFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            return state + "/kordon/pseudonym.key"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/kordon/pseudonym.key"
    }
}
