import Foundation
import KordonCore
import KordonXML
import Yams

/// Reads a YAML configuration file on top of the embedded defaults.
///
/// Every key is optional; an unknown key is an error (a typo must not silently
/// turn a protection off), and every error names the file, the line and the key.
public enum ConfigurationFile {
    /// Loads `path` over `base`.
    public static func load(_ path: String, over base: Configuration = Configuration()) throws -> Configuration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KordonError(code: "config.unreadable", message: "cannot read configuration file \(path): check the path and its permissions")
        }
        return try parse(text, file: path, over: base)
    }

    /// Parses YAML text over `base`; `file` is used in error messages.
    public static func parse(_ text: String, file: String, over base: Configuration = Configuration()) throws -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw KordonError(code: "config.syntax", message: "\(file) is not valid YAML: \(error)")
        }
        var config = base
        guard let root else { return config }
        let reader = Reader(file: file)
        let top = try reader.mapping(root, at: "")
        try reader.onlyKnown(top, ["signatures", "schemas", "limits", "scan", "rules", "state", "quarantine", "audit", "serve"], at: "")
        if let node = top["signatures"] {
            let section = try reader.mapping(node, at: "signatures")
            try reader.onlyKnown(section, ["builtin", "system", "systemDirectory", "directories"], at: "signatures")
            if let v = section["builtin"] { config.signatures.builtin = try reader.bool(v, at: "signatures.builtin") }
            if let v = section["system"] { config.signatures.system = try reader.bool(v, at: "signatures.system") }
            if let v = section["systemDirectory"] { config.signatures.systemDirectory = try reader.string(v, at: "signatures.systemDirectory") }
            if let v = section["directories"] { config.signatures.directories = try reader.strings(v, at: "signatures.directories") }
        }
        if let node = top["schemas"] {
            let section = try reader.mapping(node, at: "schemas")
            try reader.onlyKnown(section, ["builtin", "directories", "containers", "payloads"], at: "schemas")
            if let v = section["builtin"] { config.schemas.builtin = try reader.bool(v, at: "schemas.builtin") }
            if let v = section["directories"] { config.schemas.directories = try reader.strings(v, at: "schemas.directories") }
            if let v = section["payloads"] { config.schemas.formats.payloadElements = try payloadElements(v, reader: reader, over: config.schemas.formats.payloadElements) }
            if let v = section["containers"] {
                guard let items = v.sequence else { throw reader.fail(v, "schemas.containers", "must be a list of {namespace}LocalName strings") }
                config.schemas.formats.containers = try items.map { item in
                    guard let slot = ContainerSlot(try reader.string(item, at: "schemas.containers")) else {
                        throw reader.fail(item, "schemas.containers", "must be {namespace}LocalName (a * in the namespace stands for any characters)")
                    }
                    return slot
                }
            }
        }
        if let node = top["scan"] {
            let section = try reader.mapping(node, at: "scan")
            try reader.onlyKnown(section, ["jobs", "temporaryDirectory"], at: "scan")
            if let v = section["jobs"] { config.scan.jobs = try reader.int(v, at: "scan.jobs", minimum: 0) }
            if let v = section["temporaryDirectory"] {
                config.scan.temporaryDirectory = try reader.string(v, at: "scan.temporaryDirectory")
            }
        }
        if let node = top["rules"] {
            config.rules = try rules(node, reader: reader, over: config.rules)
        }
        config.service = try ServiceConfigurationFile.read(top, reader: reader, over: config.service)
        if let node = top["limits"] {
            let section = try reader.mapping(node, at: "limits")
            try reader.onlyKnown(section, Array(LimitKeys.all.keys), at: "limits")
            for (key, node) in section {
                guard let keyPath = LimitKeys.all[key] else { continue }
                config.limits[keyPath: keyPath] = try reader.int(node, at: "limits.\(key)", minimum: 1)
            }
        }
        return config
    }

    /// The `rules:` section.
    private static func rules(_ node: Node, reader: Reader, over base: RulesConfiguration) throws -> RulesConfiguration {
        var rules = base
        let section = try reader.mapping(node, at: "rules")
        try reader.onlyKnown(section, ["builtin", "directories", "pseudonymKeyFile", "cache", "cacheDirectory", "routes"], at: "rules")
        if let v = section["builtin"] { rules.builtin = try reader.bool(v, at: "rules.builtin") }
        if let v = section["directories"] { rules.directories = try reader.strings(v, at: "rules.directories") }
        if let v = section["pseudonymKeyFile"] { rules.pseudonymKeyFile = try reader.string(v, at: "rules.pseudonymKeyFile") }
        if let v = section["cache"] { rules.cache = try reader.bool(v, at: "rules.cache") }
        if let v = section["cacheDirectory"] { rules.cacheDirectory = try reader.string(v, at: "rules.cacheDirectory") }
        if let v = section["routes"] {
            guard let list = v.sequence else { throw reader.fail(v, "rules.routes", "must be a list of route sources") }
            rules.routes = try list.map { item in
                let route = try reader.mapping(item, at: "rules.routes")
                try reader.onlyKnown(route, ["namespace", "prefixes", "from", "to"], at: "rules.routes")
                func required(_ key: String) throws -> String {
                    guard let node = route[key] else { throw reader.fail(item, "rules.routes", "needs \(key)") }
                    return try reader.string(node, at: "rules.routes.\(key)")
                }
                var prefixes: [String: String] = [:]
                if let p = route["prefixes"] {
                    for (prefix, uri) in try reader.mapping(p, at: "rules.routes.prefixes") {
                        prefixes[prefix] = try reader.string(uri, at: "rules.routes.prefixes.\(prefix)")
                    }
                }
                return RulesConfiguration.RouteSource(namespace: try required("namespace"), prefixes: prefixes,
                                                      from: try required("from"), to: try required("to"))
            }
        }
        return rules
    }

    /// The `limits:` keys, named as the ``Limits`` properties.
    enum LimitKeys {
        static var all: [String: WritableKeyPath<Limits, Int>] { [
            "maxMessageSize": \.maxMessageSize,
            "maxXMLDepth": \.maxXMLDepth,
            "maxXMLAttributes": \.maxXMLAttributes,
            "maxXMLNameLength": \.maxXMLNameLength,
            "maxXMLAttributeValueLength": \.maxXMLAttributeValueLength,
            "maxMIMEParts": \.maxMIMEParts,
            "maxMIMEDepth": \.maxMIMEDepth,
            "clamMaxScanSize": \.clamMaxScanSize,
            "clamMaxFileSize": \.clamMaxFileSize,
            "clamMaxRecursion": \.clamMaxRecursion,
            "clamMaxFiles": \.clamMaxFiles,
            "clamMaxScanTimeMilliseconds": \.clamMaxScanTimeMilliseconds,
        ] }
    }

    /// Typed access to YAML nodes with errors that point at the file and line.
    struct Reader {
        let file: String

        func fail(_ node: Node, _ key: String, _ what: String) -> KordonError {
            let line = node.mark.map { ":\($0.line)" } ?? ""
            return KordonError(code: "config.invalid", message: "\(file)\(line): \(key.isEmpty ? "the document" : key) \(what)")
        }

        func mapping(_ node: Node, at key: String) throws -> [String: Node] {
            guard let mapping = node.mapping else { throw fail(node, key, "must be a mapping of keys to values") }
            var result: [String: Node] = [:]
            for (k, v) in mapping {
                guard let name = k.string else { throw fail(k, key, "has a key that is not a string") }
                result[name] = v
            }
            return result
        }

        func onlyKnown(_ mapping: [String: Node], _ known: [String], at key: String) throws {
            for (name, node) in mapping where !known.contains(name) {
                let place = key.isEmpty ? name : "\(key).\(name)"
                throw fail(node, place, "is not a known setting; known here: \(known.sorted().joined(separator: ", "))")
            }
        }

        func bool(_ node: Node, at key: String) throws -> Bool {
            guard let value = node.bool else { throw fail(node, key, "must be true or false") }
            return value
        }

        func int(_ node: Node, at key: String, minimum: Int) throws -> Int {
            guard let value = node.int, value >= minimum else { throw fail(node, key, "must be a whole number of at least \(minimum)") }
            return value
        }

        func string(_ node: Node, at key: String) throws -> String {
            guard node.scalar != nil, let value = node.string else { throw fail(node, key, "must be a string") }
            return value
        }

        func strings(_ node: Node, at key: String) throws -> [String] {
            guard let sequence = node.sequence else { throw fail(node, key, "must be a list of strings") }
            return try sequence.map { try string($0, at: key) }
        }
    }
}
