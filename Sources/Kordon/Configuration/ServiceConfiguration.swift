import Foundation

/// Where `kordon serve`, `kordon quarantine` and `kordon audit` keep their state,
/// and how the service listens.
///
/// ```yaml
/// state: /var/lib/kordon            # default home of the quarantine, the audit log and their keys
/// quarantine:
///   directory: /var/lib/kordon/quarantine   # encrypted originals + index.sqlite
///   keyFile: /var/lib/kordon/keys/quarantine.key
/// audit:
///   file: /var/lib/kordon/audit.log
///   keyFile: /var/lib/kordon/keys/audit.key
///   flushBeforeAnswer: held  # or all: which decisions are on disk before their answer (see AuditFlush)
/// serve:
///   threads: 0               # scanning threads; 0: one per core
///   queue: 64                # messages waiting for a thread; beyond it the answer is "busy"
///   gracePeriodSeconds: 30   # SIGTERM: finish what is in flight within this
///   reload: concurrent       # or blocking: free the old engines before building new ones
///   watch: false             # reload when signatures/, schemas/ or rules/ change
///   cache:                   # clean verdicts by SHA-256 of the message and route; emptied on reload
///     entries: 4096          # 0: off
///     seconds: 3600          # how long a clean verdict is trusted
///   spool:
///     root: /var/spool/kordon    # inbox/ outbox/ quarantine/ work/
///     partialSuffixes: [".tmp", ".part"]
///     minimumAgeMilliseconds: 0
///     rescanSeconds: 5
///   icap:
///     listen: 127.0.0.1:1344
///     service: kordon
///     previewBytes: 4096
///     maxConnections: 256
///     maxConnectionsPerAddress: 32
///     headTimeoutSeconds: 10     # the whole head, from the connection's start or its first byte
///     idleTimeoutSeconds: 300    # between requests and between body bytes
///   http:
///     listen: 127.0.0.1:8080
///     bearerTokenFile: /etc/kordon/http.token
///   tls:                     # both listeners, when set
///     certificate: /etc/kordon/tls.crt
///     key: /etc/kordon/tls.key
/// ```
public struct ServiceConfiguration: Sendable, Equatable {
    /// How a reload gets its memory.
    public enum ReloadStrategy: String, Sendable, Equatable, CaseIterable {
        /// Build the new engines beside the old ones, then swap: no pause, twice the memory.
        case concurrent
        /// Stop taking messages, free the old engines, build the new ones: for small machines.
        case blocking
    }

    /// The verdict cache: the same bytes, found clean by the same engines, are not scanned again.
    public struct Cache: Sendable, Equatable {
        /// Clean verdicts kept at most; 0 turns the cache off.
        public var entries = 4096
        /// How long a clean verdict is trusted.
        public var seconds = 3600

        /// The defaults.
        public init() {}
    }

    /// Which decisions must be flushed to disk before the message is answered.
    ///
    /// Every decision is written to the audit log before its answer, so a crash of
    /// Kordon loses none. Flushing to disk costs a few milliseconds of waiting per
    /// group of decisions; like auditd's default (`flush = incremental_async`), the
    /// default flushes clean passes right after answering rather than before.
    public enum AuditFlush: String, Sendable, Equatable, CaseIterable {
        /// Decisions that hold or sanitize a message are on disk before the answer
        /// (their originals are flushed to the quarantine anyway); a clean pass is
        /// written before the answer and flushed milliseconds after it, so only a
        /// power cut in between could lose its record.
        case held
        /// Every decision is on disk before its answer.
        case all
    }

    /// The spool transport; off unless `root` is set.
    public struct Spool: Sendable, Equatable {
        /// The directory holding `inbox/`, `outbox/`, `quarantine/` and `work/`.
        public var root: String?
        /// Names a writer uses while a file is incomplete; such files are not picked up.
        public var partialSuffixes: [String] = [".tmp", ".part"]
        /// A file younger than this is not picked up yet.
        public var minimumAgeMilliseconds: Int = 0
        /// The periodic rescan of `inbox/`, a safety net beside inotify.
        public var rescanSeconds: Int = 5
        /// The defaults.
        public init() {}
    }

    /// A TCP listener: `host:port`.
    public struct Listener: Sendable, Equatable {
        /// `127.0.0.1:1344`; `nil` leaves the listener off.
        public var listen: String?
        /// The defaults.
        public init() {}
    }

    /// The ICAP listener.
    public struct ICAP: Sendable, Equatable {
        /// `host:port`; off when `nil`.
        public var listen: String?
        /// The service name in `icap://host:port/NAME`.
        public var service = "kordon"
        /// Bytes of preview Kordon asks for in OPTIONS.
        public var previewBytes = 4096
        /// Connections at once; advertised as Max-Connections.
        public var maxConnections = 256
        /// Connections at once from one client address; more are answered 503 and closed.
        public var maxConnectionsPerAddress = 32
        /// A request's whole ICAP head (and its encapsulated HTTP headers) must arrive within
        /// this many seconds of the connection's opening or of the head's first byte.
        public var headTimeoutSeconds = 10
        /// A connection idle this long (between requests, or in a body) is closed.
        public var idleTimeoutSeconds = 300
        /// The defaults.
        public init() {}
    }

    /// The HTTP API listener.
    public struct HTTP: Sendable, Equatable {
        /// `host:port`; off when `nil`.
        public var listen: String?
        /// A file holding the bearer token HTTP and ICAP clients must send; no auth when
        /// `nil`. Replacing the file rotates the token within a second, without a restart.
        public var bearerTokenFile: String?
        /// The defaults.
        public init() {}
    }

    /// TLS for both listeners.
    public struct TLS: Sendable, Equatable {
        /// PEM certificate chain.
        public var certificate: String
        /// PEM private key.
        public var key: String
        /// Creates the TLS settings.
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// The state directory: default home of the quarantine, the audit log and keys.
    public var state: String?
    /// The quarantine store's directory; default `<state>/quarantine`.
    public var quarantineDirectory: String?
    /// The quarantine key; default `<state>/keys/quarantine.key`.
    public var quarantineKeyFile: String?
    /// The audit log; default `<state>/audit.log`.
    public var auditFile: String?
    /// The audit log's HMAC key; default `<state>/keys/audit.key`.
    public var auditKeyFile: String?
    /// Which decisions are flushed before their answer.
    public var auditFlush: AuditFlush = .held
    /// Scanning threads; 0 means one per core.
    public var threads = 0
    /// Messages waiting for a thread before the service answers "busy".
    public var queue = 64
    /// SIGTERM grace period.
    public var gracePeriodSeconds = 30
    /// Concurrent or blocking reloads.
    public var reload: ReloadStrategy = .concurrent
    /// Reload on changes under the resource directories.
    public var watch = false
    /// The verdict cache.
    public var cache = Cache()
    /// The spool transport.
    public var spool = Spool()
    /// The ICAP listener.
    public var icap = ICAP()
    /// The HTTP listener.
    public var http = HTTP()
    /// TLS for both listeners, when set.
    public var tls: TLS?

    /// The defaults.
    public init() {}

    /// The state directory: configured, else `$KORDON_STATE`, else `$XDG_STATE_HOME/kordon`
    /// or `~/.local/state/kordon`.
    public func stateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state { return state }
        if let explicit = environment["KORDON_STATE"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/kordon" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/kordon"
    }

    /// Where the quarantine store lives: the spool's `quarantine/` when a spool is
    /// configured, else `<state>/quarantine`.
    public var effectiveQuarantineDirectory: String {
        if let quarantineDirectory { return quarantineDirectory }
        if let root = spool.root { return root + "/quarantine" }
        return stateDirectory() + "/quarantine"
    }

    /// The quarantine key file.
    public var effectiveQuarantineKeyFile: String { quarantineKeyFile ?? stateDirectory() + "/keys/quarantine.key" }
    /// The audit log file.
    public var effectiveAuditFile: String { auditFile ?? stateDirectory() + "/audit.log" }
    /// The audit key file.
    public var effectiveAuditKeyFile: String { auditKeyFile ?? stateDirectory() + "/keys/audit.key" }
    /// Scanning threads, resolved.
    public var effectiveThreads: Int { threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
