import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonStore

/// `kordon quarantine release ID`: rescan, then deliver what now passes.
struct QuarantineReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Rescan a held message with the current engines and deliver it if it now passes.",
        discussion: """
        The original is decrypted (a tampered blob is refused) and filtered again with today's \
        signatures, schemas and rule packs. If it is now clean, it is delivered byte for byte; \
        if sanitized, its sanitized copy is delivered. Delivery goes to <serve.spool.root>/outbox/ID \
        (written under a temporary name, flushed, renamed) or to --output FILE. If it is still \
        quarantined, nothing is delivered and the new findings are listed (exit 1), unless --force \
        is given with a --reason: then the ORIGINAL is delivered as it was received.

        The record is marked released and the release (rescan verdict, digests, reason, who) is \
        appended to the audit log. A message is released once.

        Examples:
          kordon quarantine release 3f2a… --config /etc/kordon/kordon.yaml
          kordon quarantine release 3f2a… --force --reason "false positive"
          kordon quarantine release 3f2a… --output /tmp/checked.xml
        """
    )

    @OptionGroup var engine: EngineOptions

    @Argument(help: ArgumentHelp("The quarantine id (see kordon quarantine list).", valueName: "id"))
    var id: String

    @Flag(name: .long, help: "Deliver the original even if the rescan still quarantines it (needs --reason).")
    var force = false

    @Option(name: .long, help: ArgumentHelp("Why it is released; required with --force, recorded in the index and audit log.", valueName: "text"))
    var reason: String?

    @Option(name: .long, help: ArgumentHelp("Deliver to this file instead of the spool's outbox.", valueName: "file"))
    var output: String?

    func validate() throws {
        if force, (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--force needs --reason TEXT saying why the message may pass anyway")
        }
    }

    func run() throws {
        let configuration = try withStartupErrors { try engine.configuration() }
        let (store, audit, record, target) = try withStartupErrors { () throws -> (QuarantineStore, AuditLog, QuarantineRecord, URL) in
            let store = try StateFiles.store(configuration)
            guard let record = try store.record(id: id) else {
                throw KordonError(code: "quarantine.unknown", message: "no quarantined message has the id \(id); see kordon quarantine list")
            }
            if let released = record.released {
                throw KordonError(code: "quarantine.released",
                                  message: "\(id) was already released at \(QuarantineJSON.time(released)) (\(record.releaseNote ?? "no note")); nothing delivered")
            }
            return (store, try StateFiles.audit(configuration), record, try destination(configuration))
        }
        let pipeline = try withStartupErrors { try engine.pipeline(configuration) }
        // An original over the size limit cannot be scanned now either: it is not read into
        // memory, and only --force delivers it (streamed from the store).
        let oversized = record.size > configuration.limits.maxMessageSize
        let original = oversized ? nil : try withStartupErrors { try StateFiles.original(of: record, store: store, audit: audit) }
        let rescan = original.map { pipeline.filter($0, source: record.source, route: record.route) }
            ?? pipeline.oversized(size: record.size, sha256: record.sha256, form: MessageForm(rawValue: record.report.message.format) ?? .opaque,
                                  source: record.source, route: record.route)
        let report = rescan.report
        let rules = QuarantineRecord.reasons(of: report)
        let engineNote = "kordon \(report.engine.kordon), \(report.engine.signatures) signatures"

        let delivered: Data?  // nil: the original, streamed
        let note: String
        if force {
            delivered = original
            let why = report.verdict == .quarantined ? " by \(rules.joined(separator: ", "))" : ""
            note = "forced, original delivered (rescan: \(report.verdict.rawValue)\(why); \(engineNote)): \(reason ?? "")"
        } else if report.verdict != .quarantined, let output = rescan.output {
            delivered = output
            note = "rescan \(report.verdict.rawValue) (\(engineNote))" + (reason.map { ": \($0)" } ?? "")
        } else {
            try withStartupErrors {
                try audit.append(AuditEntry(event: "release-refused", source: record.source, messageSHA256: record.sha256,
                                            verdict: report.verdict.rawValue, rules: rules, route: record.route,
                                            quarantineID: record.id, detail: "rescan still quarantines; by \(StateFiles.operatorName)"))
            }
            print("\(id) is still quarantined by the current engines (\(engineNote)):")
            for finding in report.findings where finding.action == .quarantine {
                print("  \(finding.stage.rawValue)  \(finding.rule)  at \(finding.part)")
            }
            print("nothing delivered; to deliver the original anyway: kordon quarantine release \(id) --force --reason TEXT")
            throw ExitCode(1)
        }
        try withStartupErrors {
            let mode: mode_t = output == nil ? 0o640 : 0o600
            if let delivered {
                try DurableFile.write(delivered, to: target, mode: mode, replace: output != nil)
            } else {
                try DurableFile.write(to: target, mode: mode, replace: output != nil) { fd in
                    _ = try StateFiles.auditingTampering(of: record, audit: audit) { try store.copyOriginal(id: record.id, to: fd) }
                }
            }
            try store.markReleased(id: id, note: note)
            try audit.append(AuditEntry(event: "release", source: record.source, messageSHA256: record.sha256,
                                        outputSHA256: try delivered.map { try SHA256Digest.hex($0) } ?? record.sha256,
                                        verdict: report.verdict.rawValue, rules: rules, route: record.route, quarantineID: record.id,
                                        detail: "\(note); to \(target.path); by \(StateFiles.operatorName)"))
        }
        print("released \(id): \(note); \(delivered?.count ?? record.size) bytes to \(target.path)")
    }

    /// `--output`, else `<spool.root>/outbox/<id>`; checked before anything is decrypted.
    private func destination(_ configuration: Configuration) throws -> URL {
        if let output {
            let url = URL(fileURLWithPath: output)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path, isDirectory: &isDirectory),
                  isDirectory.boolValue else {
                throw KordonError(code: "release.output", message: "the directory of \(output) does not exist")
            }
            return url
        }
        guard let root = configuration.service.spool.root else {
            throw KordonError(code: "release.outbox",
                              message: "no spool is configured (serve.spool.root), so there is no outbox; give --output FILE")
        }
        let outbox = root + "/outbox"
        try DurableFile.makeDirectory(outbox, mode: 0o755)
        let url = URL(fileURLWithPath: outbox).appendingPathComponent(id)
        if FileManager.default.fileExists(atPath: url.path) {
            throw KordonError(code: "release.exists", message: "\(url.path) already exists; nothing delivered")
        }
        return url
    }
}
