import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonServer
import KordonStore
import KordonTestSupport
import Synchronization
import Testing

/// The quarantine operations as a host other than the CLI (an HTTP admin endpoint,
/// a second node) calls them: ``QuarantineRelease`` and ``QuarantineRemoval`` over a
/// real store and audit log, each effect between an intent on disk and its outcome.
@Suite("Quarantine operations: intent, effect, outcome", .timeLimit(.minutes(2)))
struct QuarantineOperationsTests {
    /// A store holding two harmless messages held days ago, and an empty audit log;
    /// made on a thread of its own (``onOwnThread(_:)``: the store and the log block).
    private struct Fixture {
        let root: URL
        let store: QuarantineStore
        let audit: AuditLog
        var auditFile: URL { root.appendingPathComponent("audit.log") }
        var auditKey: String { root.appendingPathComponent("audit.key").path }
        let harmless = Data("crates of bananas, nothing else\n".utf8)

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("quarantine-ops-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            store = try QuarantineStore(directory: root.appendingPathComponent("quarantine"), keyFile: root.appendingPathComponent("q.key").path)
            audit = try AuditLog(file: root.appendingPathComponent("audit.log"), keyFile: root.appendingPathComponent("audit.key").path)
            for (id, age) in [("old-1", 3.0), ("old-2", 2.0)] {
                let data = harmless + Data(id.utf8)
                let report = Report(
                    message: .init(source: "inbox/\(id)", sha256: try SHA256Digest.hex(data), size: data.count, format: "opaque",
                                   route: .init(from: "KZ", to: "RU")),
                    verdict: .quarantined, findings: [Finding(stage: .virus, rule: "Kordon.Test.Sig", part: .message, detail: "signature")],
                    output: nil, engine: .init(kordon: "0.1.0", clamav: "1.4.6", signatures: 4, rules: ""))
                try store.put(id: id, original: data, report: report, time: Date().addingTimeInterval(-age * 86400))
            }
        }

        /// The events, action ids and quarantine ids in the log, in order (read from disk, as a verifier would).
        func logged() throws -> [(event: String, action: String?, id: String?)] {
            guard FileManager.default.fileExists(atPath: auditFile.path) else { return [] }
            return try String(contentsOf: auditFile, encoding: .utf8).split(separator: "\n").map {
                let entry = try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["entry"] as? [String: Any]
                return (entry?["event"] as? String ?? "", entry?["action"] as? String, entry?["quarantineID"] as? String)
            }
        }

        func pipeline(maxMessageSize: Int? = nil) throws -> Pipeline {
            var configuration = Configuration()
            configuration.signatures.system = false
            if let maxMessageSize { configuration.limits.maxMessageSize = maxMessageSize }
            return Pipeline(engines: try EngineSet(configuration: configuration))
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test("a release delivers once its intent is on disk, and returns the action id its two records share")
    func release() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let target = fixture.root.appendingPathComponent("released.bin")
        // The hook stands where a crash would be: the intent must be in the file by then, the delivery not yet.
        let observed = Mutex<(events: [String], delivered: Bool)>(([], true))
        let (result, marked) = try await onOwnThread {
            let release = QuarantineRelease(store: fixture.store, audit: fixture.audit, operatorName: "test") {
                let events = (try? fixture.logged().map(\.event)) ?? []
                observed.withLock { $0 = (events, FileManager.default.fileExists(atPath: target.path)) }
            }
            let result = try release.run(.init(id: "old-1", destination: .file(target))) { try fixture.pipeline() }
            return (result, try fixture.store.record(id: "old-1")?.released != nil)
        }
        guard case .released(let released) = result else { Issue.record("not released: \(result)"); return }
        #expect(released.report.verdict == .clean && released.target == target && marked)
        #expect(try Data(contentsOf: target) == fixture.harmless + Data("old-1".utf8))
        #expect(observed.withLock { $0.events == ["release-intent"] && !$0.delivered })
        let logged = try fixture.logged()
        #expect(logged.map(\.event) == ["release-intent", "release"])
        #expect(logged.allSatisfy { $0.action == released.action && $0.id == "old-1" })
    }

    @Test("the cheap checks come before the engines: an unknown, released or undeliverable message builds none and records nothing")
    func checksBeforeEngines() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let codes = try await onOwnThread {
            let release = QuarantineRelease(store: fixture.store, audit: fixture.audit, operatorName: "test")
            let never: () throws -> Pipeline = { throw KordonError(code: "test.engines", message: "engines were built") }
            let requests: [QuarantineRelease.Request] = [
                .init(id: "nothing", destination: .outbox(spoolRoot: fixture.root.path)),
                .init(id: "old-1", destination: .outbox(spoolRoot: nil)),
                .init(id: "old-1", destination: .file(fixture.root.appendingPathComponent("no/such/dir/f"))),
                .init(id: "old-1", force: true, reason: "  ", destination: .outbox(spoolRoot: fixture.root.path)),
            ]
            return requests.map { request -> String in
                do { _ = try release.run(request, pipeline: never) } catch let error as KordonError { return "\(error.code)" } catch {}
                return "no KordonError"
            }
        }
        #expect(codes == ["quarantine.unknown", "release.outbox", "release.output", "release.reason"])
        #expect(try fixture.logged().isEmpty)
    }

    @Test("a forced release of an original over the size limit streams it, between intent and outcome")
    func forcedOversized() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let result = try await onOwnThread {
            let release = QuarantineRelease(store: fixture.store, audit: fixture.audit, operatorName: "test")
            let request = QuarantineRelease.Request(id: "old-2", force: true, reason: "too big to rescan, checked by hand",
                                                    destination: .outbox(spoolRoot: fixture.root.path))
            return try release.run(request) { try fixture.pipeline(maxMessageSize: 8) }
        }
        guard case .released(let released) = result else { Issue.record("not released: \(result)"); return }
        #expect(released.report.verdict == .quarantined && released.note.hasPrefix("forced"))
        #expect(try Data(contentsOf: fixture.root.appendingPathComponent("outbox/old-2")) == fixture.harmless + Data("old-2".utf8))
        #expect(try fixture.logged().map(\.event) == ["release-intent", "release"])
    }

    @Test("a purge records every intent, then deletes; one deleted meanwhile by someone else gets purge-failed, not a dangling intent")
    func purgeRace() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let store = fixture.store
        let (purge, verified) = try await onOwnThread {
            // Another operator deletes old-2 between the purge's intents and its deletions.
            let removal = QuarantineRemoval(store: store, audit: fixture.audit, operatorName: "test") { try? store.delete(id: "old-2") }
            let purge = try removal.purge(olderThan: Date().addingTimeInterval(-86400))
            return (purge, try AuditLog.verify(file: fixture.auditFile, keyFile: fixture.auditKey))
        }
        #expect(purge.purged == ["old-1"] && purge.failures.isEmpty)
        let logged = try fixture.logged()
        #expect(logged.map(\.event) == ["purge-intent", "purge-intent", "purge", "purge-failed"])
        #expect(logged[2].action == logged[0].action && logged[3].action == logged[1].action && logged[0].action != logged[1].action)
        #expect(verified == AuditVerification(records: 4))
    }

    @Test("verify lists an intent with no outcome, though a later action on the message completed; an outcome with no intent is ignored")
    func danglingIntentListed() async throws {
        let fixture = try await onOwnThread { try Fixture() }
        defer { fixture.remove() }
        let (dead, result) = try await onOwnThread {
            let record = try fixture.store.record(id: "old-1")!
            let dead = OperatorAction(event: "delete", entry: OperatorAction.entry(about: record, detail: "by test"))
            try fixture.audit.append(dead.intent)  // the process "died" here
            try QuarantineRemoval(store: fixture.store, audit: fixture.audit, operatorName: "test").delete(id: "old-1")
            var stray = dead.succeeded
            stray.action = "an-id-with-no-intent"
            try fixture.audit.append(stray)
            return (dead, try AuditLog.verify(file: fixture.auditFile, keyFile: fixture.auditKey))
        }
        #expect(result.isIntact && result.records == 4)
        #expect(result.danglingIntents.map(\.record) == [1] && result.danglingIntents.first?.action == dead.id)
        #expect(result.danglingIntents.first?.event == "delete-intent" && result.danglingIntents.first?.quarantineID == "old-1")
        #expect(result.warnings.count == 2 && result.warnings[0].hasPrefix("warning: 1 operator action has its intent recorded"))
    }
}
