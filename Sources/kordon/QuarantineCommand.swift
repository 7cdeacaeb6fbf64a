import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonServer
import KordonStore

/// `kordon quarantine`: the held messages.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, inspect, release and delete quarantined messages.",
        discussion: """
        Kordon keeps the original of every quarantined or sanitized message, encrypted with \
        AES-256-GCM under the quarantine key, with an index of routes, digests, verdicts and \
        findings (never the message). The store is found through --config: quarantine.directory \
        (default: the spool's quarantine/ when serve.spool.root is set, else <state>/quarantine) \
        and quarantine.keyFile. Every raw view is recorded in the audit log; every release and \
        deletion twice, its intent before it acts and its outcome after.

        Examples:
          kordon quarantine list --config /etc/kordon/kordon.yaml --since 24h
          kordon quarantine show 3f2a… --config /etc/kordon/kordon.yaml
          kordon quarantine release 3f2a… --config /etc/kordon/kordon.yaml
          kordon quarantine purge --older-than 90d --config /etc/kordon/kordon.yaml
        """,
        subcommands: [List.self, Show.self, QuarantineReleaseCommand.self, Delete.self, Purge.self]
    )

    /// `kordon quarantine list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List held messages, newest first.",
            discussion: """
            Text: one line per message (id, time, verdict, route, size, reasons). ndjson: one \
            JSON record per line, report included.

            Examples:
              kordon quarantine list --since 24h
              kordon quarantine list --since 2025-01-31 --reason Win.Test --format ndjson
            """
        )

        @OptionGroup var state: StateOptions

        @Option(name: .long, help: ArgumentHelp("Only messages stored since then: a duration ago (90s, 30m, 24h, 7d, 2w) or a date (2025-01-31, 2025-01-31T12:00:00Z).", valueName: "when"))
        var since: TimeBound?

        @Option(name: .long, help: ArgumentHelp("Only messages with this rule id (or a prefix of it) among their reasons.", valueName: "rule"))
        var reason: String?

        @Option(name: .long, help: "Output format: text or ndjson.")
        var format: ListFormat = .text

        enum ListFormat: String, ExpressibleByArgument, CaseIterable { case text, ndjson }

        func run() throws {
            let records = try withStartupErrors {
                try state.store().list(since: since?.date, reason: reason)
            }
            for record in records {
                switch format {
                case .ndjson: print(try QuarantineJSON.line(record))
                case .text: print(QuarantineJSON.textLine(record))
                }
            }
            if format == .text {
                let released = records.filter { $0.released != nil }.count
                print("\(records.count) message\(records.count == 1 ? "" : "s")\(released > 0 ? " (\(released) released)" : "")")
            }
        }
    }

    /// `kordon quarantine show`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a held message's record and report as JSON, or its original with --raw.",
            discussion: """
            --raw decrypts the original and writes it to stdout, for an operator authorized to \
            see it; it refuses to write to a terminal unless --force is given (redirect it to a \
            file). Every raw view is recorded in the audit log first. A blob that was changed or \
            truncated on disk fails GCM authentication and is reported, never shown.

            Examples:
              kordon quarantine show 3f2a…
              kordon quarantine show 3f2a… --raw > original.xml
            """
        )

        @OptionGroup var state: StateOptions

        @Argument(help: ArgumentHelp("The quarantine id (see kordon quarantine list).", valueName: "id"))
        var id: String

        @Flag(name: .long, help: "Write the decrypted original to stdout instead of the report.")
        var raw = false

        @Flag(name: .long, help: "With --raw: write even when stdout is a terminal.")
        var force = false

        func run() throws {
            if raw, !force, isatty(STDOUT_FILENO) != 0 {
                StandardError.write("kordon: --raw refuses to write a held message to a terminal; redirect stdout to a file, or add --force\n")
                throw ExitCode(2)
            }
            let configuration = try withStartupErrors { try state.configuration() }
            let store = try withStartupErrors { try StateFiles.store(configuration) }
            guard let record = try withStartupErrors({ try store.record(id: id) }) else {
                StandardError.write("kordon: no quarantined message has the id \(id); see kordon quarantine list\n")
                throw ExitCode(2)
            }
            guard raw else {
                print(try QuarantineJSON.pretty(record))
                return
            }
            let audit = try withStartupErrors { try StateFiles.audit(configuration) }
            // Streamed (an original too large for memory is served as well), and only once
            // it is known good and its view is in the audit log.
            _ = try withStartupErrors {
                try QuarantineOriginal.auditingTampering(of: record, audit: audit) {
                    try store.copyOriginal(id: record.id, to: STDOUT_FILENO) {
                        try audit.append(AuditEntry(event: "show-raw", source: record.source, messageSHA256: record.sha256,
                                                    verdict: record.verdict.rawValue, rules: record.reasons, route: record.route,
                                                    quarantineID: record.id, detail: "decrypted to stdout by \(StateFiles.operatorName)"))
                    }
                }
            }
        }
    }

    /// `kordon quarantine delete`.
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a held message: its record and its encrypted original.",
            discussion: """
            The deletion is recorded in the audit log (digest, verdict, reasons, route): its \
            intent before the message is deleted, its outcome (delete, or delete-failed with the \
            reason) after.

            Example:
              kordon quarantine delete 3f2a…
            """
        )

        @OptionGroup var state: StateOptions

        @Argument(help: ArgumentHelp("The quarantine id.", valueName: "id"))
        var id: String

        func run() throws {
            try withStartupErrors {
                try StateFiles.removal(try state.configuration()).delete(id: id)
            }
            print("deleted \(id)")
        }
    }

    /// `kordon quarantine purge`.
    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every held message stored before a time.",
            discussion: """
            Each deletion is recorded in the audit log, its intent before it and its outcome \
            after (purge, or purge-failed with the reason). A message that cannot be deleted is \
            named on stderr (exit 2) and the others are deleted.

            Examples:
              kordon quarantine purge --older-than 30d
              kordon quarantine purge --older-than 2025-01-01
            """
        )

        @OptionGroup var state: StateOptions

        @Option(name: .long, help: ArgumentHelp("Delete messages stored before then: a duration ago (30d, 12h, 2w) or a date.", valueName: "when"))
        var olderThan: TimeBound

        func run() throws {
            let purge = try withStartupErrors { try StateFiles.removal(try state.configuration()).purge(olderThan: olderThan.date) }
            let count = purge.purged.count
            print("purged \(count) message\(count == 1 ? "" : "s") stored before \(QuarantineJSON.time(olderThan.date))")
            guard purge.failures.isEmpty else {
                for failure in purge.failures { StandardError.write("kordon: \(failure.id) not purged: \(failure.error.description)\n") }
                throw ExitCode(2)
            }
        }
    }
}

/// `--config` for the commands that only need the state files.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The YAML configuration: state, quarantine and audit sections (and serve.spool.root).", valueName: "file"))
    var config: String?

    /// The configuration: embedded defaults, then the file.
    func configuration() throws -> Configuration {
        guard let config else { return Configuration() }
        return try ConfigurationFile.load(config)
    }

    /// The quarantine store the configuration names.
    func store() throws -> QuarantineStore {
        try StateFiles.store(try configuration())
    }
}

/// Opening the state files a configuration names, and what the commands share.
enum StateFiles {
    static func store(_ configuration: Configuration) throws -> QuarantineStore {
        try QuarantineStore(directory: URL(fileURLWithPath: configuration.service.effectiveQuarantineDirectory),
                            keyFile: configuration.service.effectiveQuarantineKeyFile)
    }

    static func audit(_ configuration: Configuration) throws -> AuditLog {
        try AuditLog(file: URL(fileURLWithPath: configuration.service.effectiveAuditFile),
                     keyFile: configuration.service.effectiveAuditKeyFile)
    }

    /// Deletions from the configuration's store, recorded in its audit log.
    static func removal(_ configuration: Configuration) throws -> QuarantineRemoval {
        QuarantineRemoval(store: try store(configuration), audit: try audit(configuration), operatorName: operatorName,
                          afterIntent: crashAfterIntentForTests)
    }

    /// With `KORDON_TEST_CRASH_AFTER_INTENT=1`, the process dies (`_exit(3)`: no
    /// clean-up, no flush of anything buffered) once an operator action's intent
    /// is on disk and before its effect, the way a crash there would leave the
    /// store and the log. For the tests of `kordon audit verify`; unset, nothing.
    static let crashAfterIntentForTests: @Sendable () -> Void = {
        if ProcessInfo.processInfo.environment["KORDON_TEST_CRASH_AFTER_INTENT"] == "1" { _exit(3) }
    }

    /// Who runs the command: `uid 1000 (name)`.
    static var operatorName: String {
        let uid = getuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "uid \(uid) (\(String(cString: name)))"
    }
}

/// A point in time given as a duration ago (`24h`) or a date (`2025-01-31`).
struct TimeBound: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        if let unit = text.last, let seconds = ["s": 1.0, "m": 60, "h": 3600, "d": 86400, "w": 604_800][String(unit)],
           let count = Double(text.dropLast()), count >= 0, text.dropLast().allSatisfy(\.isNumber) {
            date = Date().addingTimeInterval(-count * seconds)
            return
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                self.date = date
                return
            }
        }
        return nil
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// How records are printed.
enum QuarantineJSON {
    private static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(time(date))
        }
        return encoder
    }

    /// One line of JSON.
    static func line(_ record: QuarantineRecord) throws -> String {
        String(decoding: try encoder(pretty: false).encode(record), as: UTF8.self)
    }

    /// Indented JSON.
    static func pretty(_ record: QuarantineRecord) throws -> String {
        String(decoding: try encoder(pretty: true).encode(record), as: UTF8.self)
    }

    /// `id  time  verdict  KZ→RU  1234 B  rule,rule  [released]`.
    static func textLine(_ record: QuarantineRecord) -> String {
        let route = record.route.map { "\($0.from ?? "?")→\($0.to ?? "?")" } ?? "-"
        var fields = [record.id, time(record.time), record.verdict.rawValue, route, "\(record.size) B",
                      record.reasons.isEmpty ? "-" : record.reasons.joined(separator: ",")]
        if let released = record.released { fields.append("released \(time(released))") }
        return fields.joined(separator: "  ")
    }

    /// UTC, seconds: `2025-01-31T12:00:00Z`.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
