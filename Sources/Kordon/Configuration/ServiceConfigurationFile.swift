import Foundation
import Yams

/// Reads the `state`, `quarantine`, `audit` and `serve` sections of a configuration file.
enum ServiceConfigurationFile {
    /// The service settings from the top-level mapping, over `base`.
    static func read(_ top: [String: Node], reader: ConfigurationFile.Reader,
                     over base: ServiceConfiguration) throws -> ServiceConfiguration {
        var service = base
        if let v = top["state"] { service.state = try reader.string(v, at: "state") }
        if let node = top["quarantine"] {
            let section = try reader.mapping(node, at: "quarantine")
            try reader.onlyKnown(section, ["directory", "keyFile"], at: "quarantine")
            if let v = section["directory"] { service.quarantineDirectory = try reader.string(v, at: "quarantine.directory") }
            if let v = section["keyFile"] { service.quarantineKeyFile = try reader.string(v, at: "quarantine.keyFile") }
        }
        if let node = top["audit"] {
            let section = try reader.mapping(node, at: "audit")
            try reader.onlyKnown(section, ["file", "keyFile", "flushBeforeAnswer"], at: "audit")
            if let v = section["file"] { service.auditFile = try reader.string(v, at: "audit.file") }
            if let v = section["keyFile"] { service.auditKeyFile = try reader.string(v, at: "audit.keyFile") }
            if let v = section["flushBeforeAnswer"] {
                guard let flush = ServiceConfiguration.AuditFlush(rawValue: try reader.string(v, at: "audit.flushBeforeAnswer")) else {
                    throw reader.fail(v, "audit.flushBeforeAnswer", "must be held or all")
                }
                service.auditFlush = flush
            }
        }
        guard let node = top["serve"] else { return service }
        let section = try reader.mapping(node, at: "serve")
        try reader.onlyKnown(section, ["threads", "queue", "gracePeriodSeconds", "reload", "watch", "cache", "spool", "icap", "http", "tls"], at: "serve")
        if let v = section["threads"] { service.threads = try reader.int(v, at: "serve.threads", minimum: 0) }
        if let v = section["queue"] { service.queue = try reader.int(v, at: "serve.queue", minimum: 1) }
        if let v = section["gracePeriodSeconds"] { service.gracePeriodSeconds = try reader.int(v, at: "serve.gracePeriodSeconds", minimum: 0) }
        if let v = section["watch"] { service.watch = try reader.bool(v, at: "serve.watch") }
        if let v = section["reload"] {
            guard let strategy = ServiceConfiguration.ReloadStrategy(rawValue: try reader.string(v, at: "serve.reload")) else {
                throw reader.fail(v, "serve.reload", "must be concurrent or blocking")
            }
            service.reload = strategy
        }
        if let node = section["cache"] {
            let cache = try reader.mapping(node, at: "serve.cache")
            try reader.onlyKnown(cache, ["entries", "seconds"], at: "serve.cache")
            if let v = cache["entries"] { service.cache.entries = try reader.int(v, at: "serve.cache.entries", minimum: 0) }
            if let v = cache["seconds"] { service.cache.seconds = try reader.int(v, at: "serve.cache.seconds", minimum: 1) }
        }
        if let node = section["spool"] {
            let spool = try reader.mapping(node, at: "serve.spool")
            try reader.onlyKnown(spool, ["root", "partialSuffixes", "minimumAgeMilliseconds", "rescanSeconds"], at: "serve.spool")
            if let v = spool["root"] { service.spool.root = try reader.string(v, at: "serve.spool.root") }
            if let v = spool["partialSuffixes"] { service.spool.partialSuffixes = try reader.strings(v, at: "serve.spool.partialSuffixes") }
            if let v = spool["minimumAgeMilliseconds"] { service.spool.minimumAgeMilliseconds = try reader.int(v, at: "serve.spool.minimumAgeMilliseconds", minimum: 0) }
            if let v = spool["rescanSeconds"] { service.spool.rescanSeconds = try reader.int(v, at: "serve.spool.rescanSeconds", minimum: 1) }
        }
        if let node = section["icap"] {
            let icap = try reader.mapping(node, at: "serve.icap")
            try reader.onlyKnown(icap, ["listen", "service", "previewBytes", "maxConnections", "maxConnectionsPerAddress",
                                        "headTimeoutSeconds", "idleTimeoutSeconds"], at: "serve.icap")
            if let v = icap["listen"] { service.icap.listen = try reader.string(v, at: "serve.icap.listen") }
            if let v = icap["service"] { service.icap.service = try reader.string(v, at: "serve.icap.service") }
            if let v = icap["previewBytes"] { service.icap.previewBytes = try reader.int(v, at: "serve.icap.previewBytes", minimum: 0) }
            if let v = icap["maxConnections"] { service.icap.maxConnections = try reader.int(v, at: "serve.icap.maxConnections", minimum: 1) }
            if let v = icap["maxConnectionsPerAddress"] { service.icap.maxConnectionsPerAddress = try reader.int(v, at: "serve.icap.maxConnectionsPerAddress", minimum: 1) }
            if let v = icap["headTimeoutSeconds"] { service.icap.headTimeoutSeconds = try reader.int(v, at: "serve.icap.headTimeoutSeconds", minimum: 1) }
            if let v = icap["idleTimeoutSeconds"] { service.icap.idleTimeoutSeconds = try reader.int(v, at: "serve.icap.idleTimeoutSeconds", minimum: 1) }
        }
        if let node = section["http"] {
            let http = try reader.mapping(node, at: "serve.http")
            try reader.onlyKnown(http, ["listen", "bearerTokenFile"], at: "serve.http")
            if let v = http["listen"] { service.http.listen = try reader.string(v, at: "serve.http.listen") }
            if let v = http["bearerTokenFile"] { service.http.bearerTokenFile = try reader.string(v, at: "serve.http.bearerTokenFile") }
        }
        if let node = section["tls"] {
            let tls = try reader.mapping(node, at: "serve.tls")
            try reader.onlyKnown(tls, ["certificate", "key"], at: "serve.tls")
            guard let cert = tls["certificate"], let key = tls["key"] else {
                throw reader.fail(node, "serve.tls", "needs both certificate and key")
            }
            service.tls = .init(certificate: try reader.string(cert, at: "serve.tls.certificate"),
                                key: try reader.string(key, at: "serve.tls.key"))
        }
        return service
    }
}
