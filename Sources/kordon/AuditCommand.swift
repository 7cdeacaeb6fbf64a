import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonStore

/// `kordon audit`: the HMAC-chained record of every decision.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit log.",
        discussion: """
        Every decision, release, deletion and reload is appended to the audit log as one JSON \
        line carrying the HMAC-SHA256 of the record before it (key: audit.keyFile), with the \
        message digests, verdict, rule ids, route and the purpose tag `customs` — never message \
        content or restricted values.
        """,
        subcommands: [Verify.self]
    )

    /// `kordon audit verify`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove the audit log's chain, or name the first record changed, removed or reordered.",
            discussion: """
            Exit 0 and "N records, chain intact" when every record's MAC, number and link to \
            the record before hold and the head file (<log>.head) agrees with the end of the \
            log; operator actions (release, delete, purge) whose intent was recorded \
            but whose outcome never was are then listed after a "warning:" line (record, \
            time, event, quarantine id, action id), still exit 0: kordon stopped between \
            the two (or the action is still running), and it may or may not have happened. \
            Exit 1 and "record K: changed|removed|reordered|cut mid-line (…)" naming the \
            first bad record (1-based). Exit 2 when the log or its key cannot be read.

            Examples:
              kordon audit verify --config /etc/kordon/kordon.yaml
              kordon audit verify --file /backup/audit.log --key-file /secure/audit.key
            """
        )

        @OptionGroup var state: StateOptions

        @Option(name: .long, help: ArgumentHelp("The log to verify (default: audit.file from the configuration).", valueName: "file"))
        var file: String?

        @Option(name: .long, help: ArgumentHelp("Its key (default: audit.keyFile from the configuration).", valueName: "file"))
        var keyFile: String?

        func run() throws {
            let result = try withStartupErrors { () throws -> AuditVerification in
                let service = try state.configuration().service
                return try AuditLog.verify(file: URL(fileURLWithPath: file ?? service.effectiveAuditFile),
                                           keyFile: keyFile ?? service.effectiveAuditKeyFile)
            }
            print(result.summary)
            // A dangling intent is a warning: the chain proves what was written; it
            // cannot tell whether the action began was carried out.
            for line in result.warnings { print(line) }
            if !result.isIntact { throw ExitCode(1) }
        }
    }
}
