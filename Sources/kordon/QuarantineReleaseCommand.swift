import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonServer
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

        The release (rescan verdict, digests, reason, who, destination) is recorded in the audit \
        log as an intent before the first byte is delivered, and its outcome (release, or \
        release-failed with the reason) once the file is in place and the record is marked \
        released. A message is released once.

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
        let result = try withStartupErrors { () throws -> QuarantineRelease.Result in
            let release = QuarantineRelease(store: try StateFiles.store(configuration), audit: try StateFiles.audit(configuration),
                                            operatorName: StateFiles.operatorName, afterIntent: StateFiles.crashAfterIntentForTests)
            let destination: QuarantineRelease.Destination = output.map { .file(URL(fileURLWithPath: $0)) }
                ?? .outbox(spoolRoot: configuration.service.spool.root)
            return try release.run(.init(id: id, force: force, reason: reason, destination: destination)) {
                try engine.pipeline(configuration)
            }
        }
        switch result {
        case .released(let released):
            print("released \(id): \(released.note); \(released.size) bytes to \(released.target.path)")
        case .refused(_, let report):
            print("\(id) is still quarantined by the current engines (kordon \(report.engine.kordon), \(report.engine.signatures) signatures):")
            for finding in report.findings where finding.action == .quarantine {
                print("  \(finding.stage.rawValue)  \(finding.rule)  at \(finding.part)")
            }
            print("nothing delivered; to deliver the original anyway: kordon quarantine release \(id) --force --reason TEXT")
            throw ExitCode(1)
        }
    }
}
