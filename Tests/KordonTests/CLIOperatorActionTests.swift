import Foundation
import KordonTestSupport
import KordonCore
import KordonCrypto
import KordonStore
import Testing

/// Operator actions through the real binary: `kordon quarantine release|delete|purge`
/// record their intent before they act and their outcome after, and `kordon audit
/// verify` lists an intent whose outcome a dead process never wrote.
@Suite("kordon quarantine: audited before the effect", .timeLimit(.minutes(3)))
struct CLIOperatorActionTests {
    /// A state directory and spool named by a configuration file, holding three
    /// messages: two harmless ones stored days ago, one EICAR stored now. Made on
    /// a thread of its own (``onOwnThread(_:)``: the store and the log block).
    private struct Fixture {
        let root: URL
        var config: String { root.appendingPathComponent("kordon.yaml").path }
        var outbox: URL { root.appendingPathComponent("spool/outbox") }
        var auditFile: URL { root.appendingPathComponent("state/audit.log") }
        let harmless = Data("crates of bananas, nothing else\n".utf8)

        init() throws {
            root = try temporaryDirectory("operator-actions")
            try """
            state: \(root.path)/state
            serve:
              spool:
                root: \(root.path)/spool
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let store = try QuarantineStore(directory: root.appendingPathComponent("spool/quarantine"),
                                            keyFile: root.appendingPathComponent("state/keys/quarantine.key").path)
            let audit = try AuditLog(file: auditFile, keyFile: root.appendingPathComponent("state/keys/audit.key").path)
            for (id, data, age) in [("old-1", harmless, 3.0), ("old-2", harmless + Data("and pears\n".utf8), 2.0), ("new-1", eicar, 0.0)] {
                let report = Report(
                    message: .init(source: "spool/inbox/\(id)", sha256: try SHA256Digest.hex(data), size: data.count, format: "opaque",
                                   route: .init(from: "KZ", to: "RU")),
                    verdict: .quarantined, findings: [Finding(stage: .virus, rule: "Kordon.Test.Sig", part: .message, detail: "signature")],
                    output: nil, engine: .init(kordon: "0.1.0", clamav: "1.4.6", signatures: 4, rules: ""))
                try store.put(id: id, original: data, report: report, time: Date().addingTimeInterval(-age * 86400))
                try audit.append(AuditEntry(event: "decision", source: report.message.source, messageSHA256: report.message.sha256,
                                            verdict: "quarantined", rules: ["Kordon.Test.Sig"], route: report.message.route, quarantineID: id))
            }
        }

        /// `kordon ARGS --config …`; with `crash`, the process dies right after an intent is on disk.
        func run(_ arguments: [String], crash: Bool = false) throws -> CommandResult {
            var environment = ProcessInfo.processInfo.environment
            if crash { environment["KORDON_TEST_CRASH_AFTER_INTENT"] = "1" }
            return try KordonTests.run(try kordonBinary(), arguments + ["--config", config], environment: environment)
        }

        /// The entries after the three decisions the fixture wrote, in log order.
        func actionEntries() throws -> [[String: Any]] {
            try String(contentsOf: auditFile, encoding: .utf8).split(separator: "\n").dropFirst(3).map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["entry"] as? [String: Any] ?? [:]
            }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test("release: release-intent (id, digest, route, destination) is on record before the release, both with one action id")
    func releaseIntentFirst() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let released = try fixture.run(["quarantine", "release", "old-1"])
        #expect(released.status == 0, "\(released.stderr)")
        let entries = try fixture.actionEntries()
        #expect(entries.map { $0["event"] as? String } == ["release-intent", "release"])
        let (intent, outcome) = (entries[0], entries[1])
        let action = try #require(intent["action"] as? String)
        #expect(!action.isEmpty && outcome["action"] as? String == action)
        #expect(intent["quarantineID"] as? String == "old-1")
        #expect(try intent["messageSHA256"] as? String == SHA256Digest.hex(fixture.harmless))
        #expect(intent["route"] as? [String: String] == ["from": "KZ", "to": "RU"])
        #expect((intent["detail"] as? String)?.contains(fixture.outbox.appendingPathComponent("old-1").path) == true)
        #expect(try outcome["outputSHA256"] as? String == SHA256Digest.hex(fixture.harmless))
        let verified = try fixture.run(["audit", "verify"])
        #expect(verified.status == 0 && verified.text == "5 records, chain intact\n", "\(verified.text)")
    }

    @Test("delete and purge: each intent precedes its outcome; a purge records every intent before it deletes anything")
    func removalIntentsFirst() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        #expect(try fixture.run(["quarantine", "delete", "new-1"]).text == "deleted new-1\n")
        let purged = try fixture.run(["quarantine", "purge", "--older-than", "1d"])
        #expect(purged.status == 0 && purged.text.hasPrefix("purged 2 messages "), "\(purged.stderr)")
        let entries = try fixture.actionEntries()
        #expect(entries.map { $0["event"] as? String } == ["delete-intent", "delete", "purge-intent", "purge-intent", "purge", "purge"])
        let actions = entries.map { $0["action"] as? String }
        #expect(actions[0] != nil && actions[0] == actions[1])
        #expect(Set(actions[2...3]) == Set(actions[4...5]) && Set(actions[2...3]).count == 2)
        #expect(entries[2...].map { $0["quarantineID"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["old-1", "old-1", "old-2", "old-2"])
        let verified = try fixture.run(["audit", "verify"])
        #expect(verified.status == 0 && verified.text == "9 records, chain intact\n", "\(verified.text)")
    }

    @Test("a release whose delivery fails records its intent and release-failed with the reason; the message stays held")
    func releaseDeliveryFails() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        // A directory stands where the file is to go: the checks pass (its parent exists),
        // the rename of the delivered file onto it fails, for root as for anyone.
        let blocked = fixture.root.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
        let failed = try fixture.run(["quarantine", "release", "old-1", "--output", blocked.path])
        #expect(failed.status == 2 && failed.stderr.hasPrefix("kordon: ") && failed.text.isEmpty, "\(failed.stderr)")
        let entries = try fixture.actionEntries()
        #expect(entries.map { $0["event"] as? String } == ["release-intent", "release-failed"])
        #expect(entries[0]["action"] as? String != nil && entries[0]["action"] as? String == entries[1]["action"] as? String)
        let reason = try #require(entries[1]["detail"] as? String)
        #expect(failed.stderr.contains(reason.components(separatedBy: "; ")[0]), "the record says what the operator was told: \(reason)")
        #expect(!(try fixture.run(["quarantine", "list"]).text.contains("released")))
        #expect(try fixture.run(["audit", "verify"]).text == "5 records, chain intact\n")

        let retried = try fixture.run(["quarantine", "release", "old-1"])
        #expect(retried.status == 0, "not marked released by the failed attempt: \(retried.stderr)")
    }

    @Test("a process that dies between intent and effect leaves the intent, which audit verify lists (exit 0, a warning)")
    func crashBetweenIntentAndEffect() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let crashed = try fixture.run(["quarantine", "delete", "new-1"], crash: true)
        #expect(crashed.status == 3 && crashed.text.isEmpty)
        #expect(try fixture.run(["quarantine", "list"]).text.contains("new-1  "), "the effect never happened")
        let released = try fixture.run(["quarantine", "release", "old-1"], crash: true)
        #expect(released.status == 3)
        #expect(!FileManager.default.fileExists(atPath: fixture.outbox.appendingPathComponent("old-1").path))

        let verified = try fixture.run(["audit", "verify"])
        #expect(verified.status == 0, "the chain is intact: \(verified.text)")
        let lines = verified.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(verified.text)")
        #expect(lines[0] == "5 records, chain intact")
        #expect(lines[1].hasPrefix("warning: 2 operator actions have their intent recorded but no outcome"))
        #expect(lines[2].hasPrefix("  record 4  ") && lines[2].contains("  delete-intent  new-1  action "))
        #expect(lines[3].hasPrefix("  record 5  ") && lines[3].contains("  release-intent  old-1  action "))
        let entries = try fixture.actionEntries()
        #expect(lines[2].hasSuffix(try #require(entries[0]["action"] as? String)))
        #expect(lines[2].wholeMatch(of: #/  record 4  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  .*/#) != nil, "with its time: \(lines[2])")

        // Done again to the end, the delete has its own intent and outcome; the dead one stays listed.
        #expect(try fixture.run(["quarantine", "delete", "new-1"]).status == 0)
        let after = try fixture.run(["audit", "verify"]).text.split(separator: "\n")
        #expect(after.first == "7 records, chain intact" && after.count == 4 && after[2].contains("delete-intent  new-1"))
    }
}
