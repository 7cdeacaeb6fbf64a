import Foundation
import KordonTestSupport
import KordonCore
import KordonCrypto
import KordonStore
import Testing

/// `kordon quarantine …` and `kordon audit verify` through the real binary, on a
/// store and audit log filled the way `kordon serve` fills them.
@Suite("kordon quarantine and audit", .timeLimit(.minutes(10)))
struct CLIQuarantineTests {
    /// A state directory and spool named by a configuration file, with two held
    /// messages: one a signature update has since cleared, one still infected.
    private struct Fixture {
        let root: URL
        var config: String { root.appendingPathComponent("kordon.yaml").path }
        var outbox: URL { root.appendingPathComponent("spool/outbox") }
        var quarantine: URL { root.appendingPathComponent("spool/quarantine") }
        var auditFile: URL { root.appendingPathComponent("state/audit.log") }
        var auditKey: String { root.appendingPathComponent("state/keys/audit.key").path }
        let cleared = Data("crates of bananas, nothing else\n".utf8)

        init() throws {
            root = try temporaryDirectory("quarantine-cli")
            try """
            state: \(root.path)/state
            serve:
              spool:
                root: \(root.path)/spool
            """.write(toFile: root.appendingPathComponent("kordon.yaml").path, atomically: true, encoding: .utf8)
            let store = try QuarantineStore(directory: quarantine, keyFile: root.appendingPathComponent("state/keys/quarantine.key").path)
            let audit = try AuditLog(file: auditFile, keyFile: auditKey)
            // Held two days ago by a signature that has since been withdrawn as a false positive.
            try hold(cleared, id: "cleared-1", rule: "Kordon.Test.Withdrawn", store: store, audit: audit,
                     time: Date().addingTimeInterval(-2 * 86400))
            try hold(eicar, id: "infected-1", rule: "Win.Test.EICAR_HDB-1", store: store, audit: audit, time: Date())
        }

        private func hold(_ data: Data, id: String, rule: String, store: QuarantineStore, audit: AuditLog, time: Date) throws {
            let report = Report(
                message: .init(source: "spool/inbox/\(id).xml", sha256: try SHA256Digest.hex(data), size: data.count, format: "opaque",
                               route: .init(from: "KZ", to: "RU")),
                verdict: .quarantined,
                findings: [Finding(stage: .virus, rule: rule, part: .message, detail: "signature \(rule)")],
                output: nil, engine: .init(kordon: "0.1.0", clamav: "1.4.6", signatures: 4, rules: ""))
            try store.put(id: id, original: data, report: report, time: time)
            try audit.append(AuditEntry(event: "decision", source: report.message.source, messageSHA256: report.message.sha256,
                                        verdict: "quarantined", rules: [rule], route: report.message.route, quarantineID: id))
        }

        func run(_ arguments: [String]) throws -> CommandResult {
            try kordon(arguments + ["--config", config])
        }

        /// The audit log's entries, in order.
        func auditEntries() throws -> [[String: Any]] {
            try String(contentsOf: auditFile, encoding: .utf8).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["entry"] as? [String: Any] ?? [:]
            }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test("list: newest first, text and ndjson, filtered by --since and --reason")
    func list() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let text = try fixture.run(["quarantine", "list"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("infected-1  ") && lines[0].contains("KZ→RU") && lines[0].contains("Win.Test.EICAR_HDB-1"))
        #expect(lines[1].hasPrefix("cleared-1  ") && lines[2] == "2 messages")

        let ndjson = try fixture.run(["quarantine", "list", "--format", "ndjson"])
        let records = try ndjson.text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.map { $0["id"] as? String } == ["infected-1", "cleared-1"])
        #expect((records[0]["report"] as? [String: Any])?["verdict"] as? String == "quarantined")

        #expect(try fixture.run(["quarantine", "list", "--since", "24h", "--format", "ndjson"]).text.split(separator: "\n").count == 1)
        #expect(try fixture.run(["quarantine", "list", "--since", "2000-01-01"]).text.contains("2 messages"))
        let byReason = try fixture.run(["quarantine", "list", "--reason", "Kordon.Test"])
        #expect(byReason.text.hasPrefix("cleared-1  ") && byReason.text.contains("1 message\n"))
        let bad = try fixture.run(["quarantine", "list", "--since", "yesterday"])
        #expect(bad.status == 2 && bad.stderr.contains("--since"))
    }

    @Test("show: the record and report as JSON; --raw decrypts the original and is audited")
    func show() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let shown = try fixture.run(["quarantine", "show", "cleared-1"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: shown.stdout) as? [String: Any])
        #expect(try object["id"] as? String == "cleared-1" && object["sha256"] as? String == SHA256Digest.hex(fixture.cleared))
        #expect(!shown.text.contains("bananas"), "the report must not hold the message")

        let raw = try fixture.run(["quarantine", "show", "cleared-1", "--raw"])
        #expect(raw.status == 0 && raw.stdout == fixture.cleared)
        let last = try #require(try fixture.auditEntries().last)
        #expect(last["event"] as? String == "show-raw" && last["quarantineID"] as? String == "cleared-1")

        let unknown = try fixture.run(["quarantine", "show", "nothing-here"])
        #expect(unknown.status == 2 && unknown.stderr.split(separator: "\n").count == 1)
    }

    @Test("show --raw refuses to write to a terminal unless --force",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func rawRefusesTerminal() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let command = "\(try kordonBinary().path) quarantine show cleared-1 --raw --config \(fixture.config)"
        // script(1) runs the command on a pseudo-terminal.
        let refused = try run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        #expect(refused.status == 2 && refused.text.contains("refuses") && !refused.text.contains("bananas"))
        let forced = try run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command + " --force", "/dev/null"])
        #expect(forced.status == 0 && forced.text.contains("bananas"))
    }

    @Test("release of a message the current engines find clean: delivered to the spool outbox, marked, audited; once only")
    func releaseClean() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let released = try fixture.run(["quarantine", "release", "cleared-1"])
        #expect(released.status == 0, "\(released.stderr)")
        #expect(try Data(contentsOf: fixture.outbox.appendingPathComponent("cleared-1")) == fixture.cleared)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.outbox.path) == ["cleared-1"], "no temporary file is left")
        let entry = try #require(try fixture.auditEntries().last)
        #expect(entry["event"] as? String == "release" && entry["verdict"] as? String == "clean")
        #expect(try entry["outputSHA256"] as? String == SHA256Digest.hex(fixture.cleared))
        #expect(try fixture.run(["quarantine", "list"]).text.contains("released"))

        let again = try fixture.run(["quarantine", "release", "cleared-1"])
        #expect(again.status == 2 && again.stderr.contains("already released"))
    }

    @Test("release of a message still infected: refused with the findings (exit 1); --force needs --reason and delivers the original")
    func releaseRefusedThenForced() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let refused = try fixture.run(["quarantine", "release", "infected-1"])
        #expect(refused.status == 1)
        #expect(refused.text.contains("still quarantined") && refused.text.contains("EICAR"))
        #expect(!FileManager.default.fileExists(atPath: fixture.outbox.appendingPathComponent("infected-1").path))
        #expect(try fixture.auditEntries().last?["event"] as? String == "release-refused")

        let noReason = try fixture.run(["quarantine", "release", "infected-1", "--force"])
        #expect(noReason.status == 2 && noReason.stderr.contains("--reason"))

        let target = fixture.root.appendingPathComponent("forced.bin")
        let forced = try fixture.run(["quarantine", "release", "infected-1", "--force", "--reason", "lab sample for the CERT",
                                      "--output", target.path])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Data(contentsOf: target) == eicar)
        let entry = try #require(try fixture.auditEntries().last)
        #expect(entry["event"] as? String == "release" && entry["verdict"] as? String == "quarantined")
        #expect((entry["detail"] as? String)?.contains("lab sample for the CERT") == true)
        let record = try #require(try JSONSerialization.jsonObject(
            with: try fixture.run(["quarantine", "show", "infected-1"]).stdout) as? [String: Any])
        #expect((record["releaseNote"] as? String)?.hasPrefix("forced") == true)
    }

    @Test("a tampered blob is reported and audited, never shown or released")
    func tampered() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let blob = fixture.quarantine.appendingPathComponent("blobs/cleared-1.kq")
        var sealed = try Data(contentsOf: blob)
        sealed[sealed.count / 2] ^= 0x01
        try sealed.write(to: blob)
        let raw = try fixture.run(["quarantine", "show", "cleared-1", "--raw"])
        #expect(raw.status == 2 && raw.stdout.isEmpty && raw.stderr.contains("quarantine.tampered"))
        let release = try fixture.run(["quarantine", "release", "cleared-1"])
        #expect(release.status == 2 && release.stderr.contains("quarantine.tampered"))
        #expect(!FileManager.default.fileExists(atPath: fixture.outbox.appendingPathComponent("cleared-1").path))
        #expect(try fixture.auditEntries().filter { $0["event"] as? String == "tampered" }.count == 2)
    }

    @Test("delete and purge remove held messages, each recorded in the audit log")
    func deleteAndPurge() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let deleted = try fixture.run(["quarantine", "delete", "infected-1"])
        #expect(deleted.status == 0 && deleted.text == "deleted infected-1\n", "\(deleted.stderr)")
        #expect(try fixture.run(["quarantine", "delete", "infected-1"]).status == 2)
        let purged = try fixture.run(["quarantine", "purge", "--older-than", "1d"])
        #expect(purged.status == 0 && purged.text.hasPrefix("purged 1 message "), "\(purged.stderr)")
        #expect(try fixture.run(["quarantine", "list"]).text == "0 messages\n")
        #expect(try fixture.auditEntries().suffix(4).map { $0["event"] as? String } == ["delete-intent", "delete", "purge-intent", "purge"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.quarantine.appendingPathComponent("blobs").path).isEmpty)
    }

    @Test("audit verify: intact after the CLI and the library wrote to one log; an edited record is named")
    func auditVerify() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run(["quarantine", "show", "cleared-1", "--raw"])
        _ = try fixture.run(["quarantine", "delete", "infected-1"])
        let intact = try fixture.run(["audit", "verify"])
        // Two decisions, the raw view, the deletion's intent and its outcome.
        #expect(intact.status == 0 && intact.text == "5 records, chain intact\n", "\(intact.stderr)")

        var lines = try String(contentsOf: fixture.auditFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        lines[1] = Substring(lines[1].replacingOccurrences(of: "\"verdict\":\"quarantined\"", with: "\"verdict\":\"clean\""))
        try lines.joined(separator: "\n").write(to: fixture.auditFile, atomically: false, encoding: .utf8)
        let broken = try fixture.run(["audit", "verify"])
        #expect(broken.status == 1)
        #expect(broken.text.hasPrefix("record 2: changed"), "\(broken.text)")
        let explicit = try kordon(["audit", "verify", "--file", fixture.auditFile.path, "--key-file", fixture.auditKey])
        #expect(explicit.status == 1 && explicit.text.hasPrefix("record 2: changed"))
        let missing = try kordon(["audit", "verify", "--file", fixture.root.appendingPathComponent("none.log").path, "--key-file", fixture.auditKey])
        #expect(missing.status == 2 && missing.stderr.contains("audit.missing"))
    }
}
