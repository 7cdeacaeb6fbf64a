import Foundation
import KordonCore
import KordonXML

/// Everything an operator can set, from one YAML file or the embedded defaults.
///
/// ```yaml
/// signatures:
///   builtin: true            # Kordon's own signatures/ (test signatures)
///   system: true             # /var/lib/clamav, when it holds a database
///   systemDirectory: /var/lib/clamav
///   directories: [/srv/kordon/signatures]
/// schemas:
///   builtin: true            # Kordon's own schemas/
///   directories: [/srv/kordon/schemas]
/// limits:
///   maxMessageSize: 104857600
///   maxXMLDepth: 256
/// scan:
///   jobs: 0                  # 0: one per core
/// rules:                     # see RulesConfiguration
///   builtin: true
/// ```
public struct Configuration: Sendable, Equatable {
    /// Where ClamAV signatures come from.
    public struct Signatures: Sendable, Equatable, Codable {
        /// Load Kordon's own `signatures/`.
        public var builtin: Bool = true
        /// Load the system database directory when it holds a database.
        public var system: Bool = true
        /// The system database directory (freshclam writes there).
        public var systemDirectory: String = "/var/lib/clamav"
        /// Further signature directories or database files, loaded in order.
        public var directories: [String] = []
        /// The defaults.
        public init() {}
    }

    /// Where agreed schemas come from.
    public struct Schemas: Sendable, Equatable {
        /// Register Kordon's own `schemas/`.
        public var builtin: Bool = true
        /// Further schema directories.
        public var directories: [String] = []
        /// Containers and attachment elements of the agreed formats.
        public var formats = XMLFormats()
        /// The defaults.
        public init() {}
    }

    /// Batch scanning.
    public struct Scan: Sendable, Equatable, Codable {
        /// Messages scanned at once; 0 means one per core.
        public var jobs: Int = 0
        /// Where libclamav unpacks while it scans (it makes a directory there for every
        /// scan); `nil`: `$TMPDIR`, else `/tmp`. A tmpfs here spares a journaled disk,
        /// such as the spool's, two directory creations and removals a message.
        public var temporaryDirectory: String?
        /// The defaults.
        public init() {}
    }

    /// Signature sources.
    public var signatures = Signatures()
    /// Schema sources.
    public var schemas = Schemas()
    /// Bounds.
    public var limits = Limits()
    /// Batch scanning.
    public var scan = Scan()
    /// Rule packs and the restricted-data stage.
    public var rules = RulesConfiguration()
    /// The gateway service, the quarantine store and the audit log.
    public var service = ServiceConfiguration()
    /// Where Kordon's own `signatures/` and `schemas/` are; `nil` when not found.
    public var resources: ResourceLocator.Found?

    /// The embedded defaults, with Kordon's own resources located.
    public init(resources: ResourceLocator.Found? = ResourceLocator.locate()) {
        self.resources = resources
    }

    /// The signature databases to load, in order: built-in, system (when it
    /// holds a database), then the configured directories.
    public func signatureDirectories() throws -> [URL] {
        var result: [URL] = []
        if signatures.builtin {
            guard let resources else {
                throw KordonError(code: "config.resources",
                                  message: "Kordon's own signatures/ directory was not found; set KORDON_HOME to the directory holding signatures/ and schemas/, or set signatures.builtin: false")
            }
            result.append(resources.signatures)
        }
        if signatures.system {
            let system = URL(fileURLWithPath: signatures.systemDirectory)
            if Self.holdsClamDatabase(system) { result.append(system) }
        }
        for path in signatures.directories {
            let url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw KordonError(code: "config.signatures", message: "signature directory \(path) does not exist; check --signatures or signatures.directories")
            }
            result.append(url)
        }
        if result.isEmpty {
            throw KordonError(code: "config.signatures", message: "no signature source is configured: enable signatures.builtin or signatures.system, or give --signatures DIR")
        }
        return result
    }

    /// The schema directories to register, in order.
    public func schemaDirectories() throws -> [URL] {
        try directories(builtin: resources?.schemas, wanted: schemas.builtin,
                        missingBuiltin: "Kordon's own schemas/ directory was not found; set KORDON_HOME to the directory holding signatures/ and schemas/, or set schemas.builtin: false",
                        extra: schemas.directories, code: "config.schemas",
                        missing: { "schema directory \($0) does not exist; check --schemas or schemas.directories" })
    }

    /// The rule-pack directories to load, in order.
    public func ruleDirectories() throws -> [URL] {
        let builtin = resources.map(\.rules).flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
        return try directories(builtin: builtin, wanted: rules.builtin,
                               missingBuiltin: "Kordon's own rules/ directory was not found; set KORDON_HOME to the directory holding signatures/, schemas/ and rules/, or set rules.builtin: false",
                               extra: rules.directories, code: "config.rules",
                               missing: { "rules directory \($0) does not exist; check --rules or rules.directories" })
    }

    /// Kordon's own directory (when `wanted`; an error when it was not found), then
    /// every configured directory, each of which must exist.
    private func directories(builtin: URL?, wanted: Bool, missingBuiltin: String, extra: [String], code: KordonError.Code,
                             missing: (String) -> String) throws -> [URL] {
        var result: [URL] = []
        if wanted {
            guard let builtin else { throw KordonError(code: "config.resources", message: missingBuiltin) }
            result.append(builtin)
        }
        for path in extra {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw KordonError(code: code, message: missing(path))
            }
            result.append(URL(fileURLWithPath: path))
        }
        return result
    }

    /// The number of messages to scan at once.
    public var effectiveJobs: Int {
        scan.jobs > 0 ? scan.jobs : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Whether a directory holds a ClamAV database (`.cvd`, `.cld`, `.cud`, or a
    /// plain signature file), as freshclam leaves it.
    static func holdsClamDatabase(_ directory: URL) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let extensions: Set<String> = ["cvd", "cld", "cud", "hdb", "hsb", "ndb", "ldb", "mdb", "msb", "cdb", "yar", "yara", "ign2", "fp", "sfp"]
        return names.contains { extensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
    }
}
