import ArgumentParser
import Kordon

/// `kordon`: the root command.
struct KordonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kordon",
        abstract: "An antivirus and content-sanitization filter for customs message exchange.",
        discussion: """
        Every message comes out as exactly one verdict: clean (passed unchanged), \
        sanitized (restricted data removed, passed) or quarantined (held, nothing passed). \
        XML documents are validated against the agreed schemas and their base64 payloads \
        are decoded and scanned; MIME messages are decoded part by part; everything is \
        scanned by ClamAV. A part that could not be fully checked is never clean.

        Exit codes: 0 every message passed, 1 at least one was quarantined, 2 usage or start-up error.
        """,
        version: KordonVersion.current,
        subcommands: [ScanCommand.self, FilterCommand.self, ServeCommand.self, RulesCommand.self, QuarantineCommand.self,
                      AuditCommand.self, SelftestCommand.self]
    )
}
