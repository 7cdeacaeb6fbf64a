import Foundation
import KordonCore
import KordonRules

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
///     - namespace: "urn:EEC:R:055:GoodsDeclaration:v*"   # a namespace pattern, as in rule packs
///       prefixes: {gd: "urn:EEC:R:055:GoodsDeclaration:v*", cacdo: "urn:EEC:M:CA:ComplexDataObjects:v*",
///                  casdo: "urn:EEC:M:CA:SimpleDataObjects:v*"}
///       from: /gd:GoodsDeclaration/cacdo:GDGoodsShipmentDetails/cacdo:DepartureCountryDetails/casdo:CACountryCode
///       to: /gd:GoodsDeclaration/cacdo:GDGoodsShipmentDetails/cacdo:DestinationCountryDetails/casdo:CACountryCode
/// ```
///
/// A configured `routes` list replaces the built-in one (``builtinRoutes``). Namespaces and
/// prefixes may be patterns (`…:*` any version, `…:**` every namespace below a stem; see
/// `rules/README.md`), matched against what the document declares. Several sources may match one
/// document: each state comes from the first source, in order, that gives one.
public struct RulesConfiguration: Sendable, Equatable {
    /// Where one document family names its route: XPaths to the sending and
    /// receiving state's two-letter code.
    public struct RouteSource: Sendable, Equatable {
        /// The root element's namespace this applies to; may be a namespace pattern (`…:*`, `…:**`).
        public var namespace: String
        /// Prefix → namespace URI or pattern, for the two expressions.
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

        /// Throws a `config.invalid` error when the namespace or a prefix is a malformed pattern
        /// (a wildcard anywhere but at the end, a family stem too short).
        public func checkNamespaces() throws {
            for (place, text) in [("namespace", namespace)] + prefixes.sorted(by: { $0.key < $1.key }).map({ ("prefixes.\($0.key)", $0.value) }) {
                do {
                    _ = try NamespacePattern.parse(text)
                } catch {
                    throw KordonError(code: "config.invalid", message: "rules.routes.\(place): \(error.message)")
                }
            }
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

    /// The route sources Kordon knows: the FTS album's formats and the EEC's declarations (any
    /// version), then Kordon's own sample schemas. See `rules/README.md`, "Routes".
    public static let builtinRoutes: [RouteSource] = albumRoutes + sampleRoutes

    /// Routes of the real formats (album of formats 5.23.0 and the EEC schemas it carries).
    static let albumRoutes: [RouteSource] = {
        let rusCommon = "urn:customs.ru:RUSCommonAggregateTypes:*"
        let esad = "urn:customs.ru:Information:CustomsDocuments:ESADout_CU:*"
        let cuesad = "urn:customs.ru:CUESADCommonAggregateTypesCust:*"
        let caComplex = "urn:EEC:M:CA:ComplexDataObjects:v*"
        let caSimple = "urn:EEC:M:CA:SimpleDataObjects:v*"
        let consignment = "/esad:ESADout_CU/esad:ESADout_CUGoodsShipment/esad:ESADout_CUConsigment"
        let header = "/self::*[local-name(..) = 'EECEDocHeaderAddInfo']"
        return [
            // Every FTS format with the EEC's technical header (EECEDocHeaderAddInfo, also in a document an
            // ED_Container carries): the message's sending and receiving country.
            RouteSource(namespace: "urn:customs.ru:**", prefixes: ["RUScat_ru": rusCommon],
                        from: "//RUScat_ru:SourceCountryCode\(header)", to: "//RUScat_ru:DestinationCountryCode\(header)"),
            // The declaration for goods (ESADout_CU): countries of dispatch and destination (boxes 15a, 17a) …
            RouteSource(namespace: esad, prefixes: ["esad": esad, "catESAD_cu": cuesad],
                        from: "\(consignment)/catESAD_cu:DispatchCountryCode", to: "\(consignment)/catESAD_cu:DestinationCountryCode"),
            // … else the country of the customs office the declaration is filed with.
            RouteSource(namespace: esad, prefixes: ["esad": esad, "catESAD_cu": cuesad],
                        from: "\(consignment)/catESAD_cu:DispatchCountryCode", to: "/esad:ESADout_CU/esad:RecipientCountryCode"),
            // EEC R.055 goods declaration: departure and destination countries of the shipment.
            RouteSource(namespace: "urn:EEC:R:055:GoodsDeclaration:v*",
                        prefixes: ["gd": "urn:EEC:R:055:GoodsDeclaration:v*", "cacdo": caComplex, "casdo": caSimple],
                        from: "/gd:GoodsDeclaration/cacdo:GDGoodsShipmentDetails/cacdo:DepartureCountryDetails/casdo:CACountryCode",
                        to: "/gd:GoodsDeclaration/cacdo:GDGoodsShipmentDetails/cacdo:DestinationCountryDetails/casdo:CACountryCode"),
            // EEC R.048 transit declaration: departure and destination countries of the shipment.
            RouteSource(namespace: "urn:EEC:R:048:TransitDeclaration:v*",
                        prefixes: ["td": "urn:EEC:R:048:TransitDeclaration:v*", "cacdo": caComplex, "casdo": caSimple],
                        from: "/td:TransitDeclaration/cacdo:TDGoodsShipmentDetails/casdo:DepartureCountryCode",
                        to: "/td:TransitDeclaration/cacdo:TDGoodsShipmentDetails/casdo:DestinationCountryCode"),
        ]
    }()

    /// The route sources of Kordon's own sample schemas.
    static let sampleRoutes: [RouteSource] = [
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
