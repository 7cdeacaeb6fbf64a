import Foundation
import KordonCore
import KordonStore
import Testing

@Suite("Audit log", .timeLimit(.minutes(10)))
struct AuditLogTests {
    private typealias Fixture = AuditLogFiles

    /// Replaces the first occurrence of `old` in line `k` (1-based).
    private func edit(_ fixture: Fixture, record k: Int, _ old: String, _ new: String) throws {
        var lines = try fixture.lines()
        let text = String(decoding: lines[k - 1], as: UTF8.self)
        let range = try #require(text.range(of: old), "record \(k) has no \(old)")
        lines[k - 1] = Data(text.replacingCharacters(in: range, with: new).utf8)
        try fixture.write(lines)
    }

    @Test("50 appended records verify; each is one JSON line chained to the one before")
    func intact() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        let result = try fixture.verify()
        #expect(result == AuditVerification(records: 50))
        #expect(result.summary == "50 records, chain intact")
        let lines = try fixture.lines()
        #expect(lines.count == 50)
        var previous = String(repeating: "0", count: 64)
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            #expect(object["seq"] as? Int == index + 1)
            #expect(object["prev"] as? String == previous)
            let entry = try #require(object["entry"] as? [String: Any])
            #expect(entry["purpose"] as? String == "customs")
            #expect((object["time"] as? String)?.hasSuffix("Z") == true)
            previous = try #require(object["mac"] as? String)
        }
        #expect(try storeMode(fixture.keyFile) == 0o600)
        #expect(try storeMode(fixture.file.path) == 0o600)
        #expect(FileManager.default.fileExists(atPath: fixture.head.path))
    }

    @Test("an edit of any field of record k fails verification at k", arguments: [1, 2, 17, 49, 50])
    func edited(k: Int) throws {
        let edits: [(String, String)] = [
            ("\"seq\":\(k),", "\"seq\":\(k + 100),"),
            ("\"verdict\":\"", "\"verdict\":\"x"),
            ("\"purpose\":\"customs\"", "\"purpose\":\"tax\""),
            ("\"source\":\"inbox/", "\"source\":\"inbox/x"),
            ("\"time\":\"2", "\"time\":\"1"),
            ("\"prev\":\"", "\"prev\":\"f"),
            ("\"mac\":\"", "\"mac\":\"0"),
            ("{\"seq\"", " {\"seq\""),
        ]
        for (old, new) in edits {
            let fixture = try Fixture(records: 50)
            defer { fixture.remove() }
            try edit(fixture, record: k, old, new)
            let result = try fixture.verify()
            #expect(result.firstBad == k, "editing \(old) in record \(k): \(result.summary)")
            #expect(result.problem?.hasPrefix("changed") == true, "\(result.summary)")
        }
    }

    @Test("record k removed: verification fails at k", arguments: [1, 2, 25, 49, 50])
    func removed(k: Int) throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        var lines = try fixture.lines()
        lines.remove(at: k - 1)
        try fixture.write(lines)
        let result = try fixture.verify()
        #expect(result.firstBad == k, "\(result.summary)")
        #expect(result.problem?.hasPrefix("removed") == true, "\(result.summary)")
    }

    @Test("records k and k+1 swapped: verification fails at k", arguments: [1, 10, 48, 49])
    func swapped(k: Int) throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        var lines = try fixture.lines()
        lines.swapAt(k - 1, k)
        try fixture.write(lines)
        let result = try fixture.verify()
        #expect(result.firstBad == k, "\(result.summary)")
        #expect(result.problem?.hasPrefix("reordered") == true, "\(result.summary)")
    }

    @Test("record k moved to the end: verification fails at k")
    func moved() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        var lines = try fixture.lines()
        lines.append(lines.remove(at: 6))
        try fixture.write(lines)
        #expect(try fixture.verify().firstBad == 7)
    }

    @Test("the log cut mid-line in record k: verification fails at k", arguments: [1, 30, 50])
    func cutMidLine(k: Int) throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        let lines = try fixture.lines()
        try fixture.write(Array(lines.prefix(k - 1)) + [lines[k - 1].prefix(40)])
        let result = try fixture.verify()
        #expect(result.firstBad == k, "\(result.summary)")
        #expect(result.problem?.hasPrefix("cut mid-line") == true, "\(result.summary)")
    }

    @Test("the last records dropped cleanly at a line end: the head catches it", arguments: [1, 2, 10])
    func tailDropped(dropped: Int) throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        try fixture.write(Array(try fixture.lines().prefix(50 - dropped)))
        let result = try fixture.verify()
        #expect(result.firstBad == 51 - dropped, "\(result.summary)")
        #expect(result.problem?.hasPrefix("removed") == true)
        // The service refuses to continue such a log rather than bury the damage.
        #expect(storeErrorCode { _ = try fixture.open() } == "audit.broken")
    }

    @Test("a missing or edited head file is reported and the log is not continued")
    func headTampered() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        let head = try Data(contentsOf: fixture.head)
        try FileManager.default.removeItem(at: fixture.head)
        #expect(try fixture.verify().firstBad == 51)
        #expect(storeErrorCode { _ = try fixture.open() } == "audit.broken")
        try Data(String(decoding: head, as: UTF8.self).replacingOccurrences(of: "\"count\":50", with: "\"count\":49").utf8).write(to: fixture.head)
        #expect(try fixture.verify().firstBad == 51)
        #expect(storeErrorCode { _ = try fixture.open() } == "audit.broken")
        try head.write(to: fixture.head)
        #expect(try fixture.verify().isIntact)
    }

    @Test("verifying with another key fails at record 1; a missing key or log is an error, not a verdict")
    func otherKey() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        let other = fixture.root.appendingPathComponent("keys/other.key").path
        _ = try AuditLog(file: fixture.root.appendingPathComponent("other.log"), keyFile: other)
        #expect(try AuditLog.verify(file: fixture.file, keyFile: other).firstBad == 1)
        #expect(storeErrorCode { _ = try AuditLog.verify(file: fixture.file, keyFile: fixture.root.path + "/none.key") } == "audit.key")
        #expect(storeErrorCode { _ = try AuditLog.verify(file: fixture.root.appendingPathComponent("none.log"), keyFile: fixture.keyFile) }
            == "audit.missing")
    }

    @Test("a reopened log continues its chain")
    func reopenContinues() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        do {
            let log = try fixture.open()
            #expect(log.count == 50)
            for n in 50..<53 { try log.append(Fixture.entry(n)) }
        }
        try fixture.open().append(AuditEntry(event: "stop"))
        #expect(try fixture.verify() == AuditVerification(records: 54))
    }

    @Test("a line left incomplete by a crash, never counted by the head, is cut off on reopen")
    func crashRecovery() throws {
        let fixture = try Fixture(records: 50)
        defer { fixture.remove() }
        let handle = try FileHandle(forWritingTo: fixture.file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"seq":51,"time":"2025"#.utf8))
        try handle.close()
        #expect(try fixture.verify().problem?.hasPrefix("cut mid-line") == true)
        try fixture.open().append(AuditEntry(event: "start"))
        #expect(try fixture.verify() == AuditVerification(records: 51))
    }

    @Test("two writers on one log (the service and the CLI) and 8 threads keep one chain")
    func concurrentWriters() async throws {
        let fixture = try Fixture(records: 0)
        defer { fixture.remove() }
        let first = try fixture.open(), second = try fixture.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for thread in 0..<8 {
                let log = thread.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                        Thread {
                            continuation.resume(with: Result {
                                for n in 0..<25 { try log.append(Fixture.entry(thread * 100 + n)) }
                            })
                        }.start()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try fixture.verify() == AuditVerification(records: 200))
        try first.append(AuditEntry(event: "stop"))
        #expect(try fixture.verify() == AuditVerification(records: 201))
    }

    @Test("200 async callers at once are committed in groups (records of a group share its time), one chain")
    func groupCommit() async throws {
        let fixture = try Fixture(records: 0)
        defer { fixture.remove() }
        let log = try fixture.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<200 { group.addTask { try await log.commit(Fixture.entry(n)) } }
            try await group.waitForAll()
        }
        #expect(log.count == 200)
        #expect(try fixture.verify() == AuditVerification(records: 200))
        // One group is one write, one fsync, one head: 200 separate commits would be ~400 fsyncs.
        let times = Set(try fixture.lines().map { line in
            (try JSONSerialization.jsonObject(with: line) as? [String: Any])?["time"] as? String ?? ""
        })
        #expect(times.count <= 100, "\(times.count) groups for 200 records")
    }

    @Test("callers that wait only for the write find their record in the log at once; the flusher brings the head up behind them")
    func writtenThenFlushed() async throws {
        let fixture = try Fixture(records: 0)
        defer { fixture.remove() }
        let log = try fixture.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<200 {
                group.addTask { try await log.commit(Fixture.entry(n), until: n.isMultiple(of: 2) ? .written : .flushed) }
            }
            try await group.waitForAll()
        }
        // Each caller returned only once its record was in the file: all 200 are there and chained.
        #expect(try fixture.lines().count == 200)
        #expect(try fixture.verify() == AuditVerification(records: 200))
        try await log.commit(AuditEntry(event: "probe"), until: .written)
        #expect(try fixture.lines().count == 201)
        // A flushed record is counted by the head: the log reopens without complaint, and dropping it is caught.
        try await log.commit(AuditEntry(event: "stop"), until: .flushed)
        #expect(try fixture.verify() == AuditVerification(records: 202))
        var lines = try fixture.lines()
        lines.removeLast()
        try fixture.write(lines)
        #expect(try fixture.verify().problem != nil, "the head counts the flushed record that was removed")
    }

    @Test("records submitted together are written as few groups; each receipt returns once its record is in the log")
    func submittedTogether() throws {
        let fixture = try Fixture(records: 0)
        defer { fixture.remove() }
        let log = try fixture.open()
        let receipts = (0..<64).map { log.submit(Fixture.entry($0), until: $0 == 63 ? .flushed : .written) }
        for receipt in receipts.reversed() { try receipt.wait() }
        try receipts[0].wait()  // a second wait returns at once
        #expect(try fixture.lines().count == 64)
        #expect(try fixture.verify() == AuditVerification(records: 64))
        let times = Set(try fixture.lines().map { line in
            (try JSONSerialization.jsonObject(with: line) as? [String: Any])?["time"] as? String ?? ""
        })
        #expect(times.count < 64, "one group per record: the writer did not take them together")
    }

    @Test("a receipt whose record could not be written throws the log's error: cut the log under a running writer")
    func receiptCarriesTheError() throws {
        let fixture = try Fixture(records: 0)
        defer { fixture.remove() }
        let log = try fixture.open()
        for n in 0..<3 { try log.append(Fixture.entry(n)) }
        try Data().write(to: fixture.file)  // another process empties the log: the chain cannot go on
        let receipt = log.submit(Fixture.entry(3), until: .written)
        #expect(throws: KordonError.self) { try receipt.wait() }
        #expect(storeErrorCode { try receipt.wait() } == "audit.broken")
    }
}

private extension AuditLogFiles {
    /// An empty log, or a copy of one log of 50 decisions written once for all tests
    /// (each durable append costs two fsyncs).
    init(records count: Int) throws {
        precondition(count == 0 || count == 50, "fixtures hold 0 or 50 records")
        try self.init("audit")
        if count == 50 {
            let template = try Self.template.get()
            for name in ["audit.log", "audit.log.head", "keys"] {
                try FileManager.default.copyItem(at: template.root.appendingPathComponent(name), to: root.appendingPathComponent(name))
            }
        }
        _ = try open()
    }

    static let template = Result { () throws -> AuditLogFiles in
        let files = try AuditLogFiles("audit-template")
        let log = try files.open()
        for n in 0..<50 { try log.append(entry(n)) }
        return files
    }

    static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(event: "decision", source: "inbox/\(n).xml", messageSHA256: String(repeating: "ab", count: 32),
                   verdict: n % 3 == 0 ? "quarantined" : "clean", rules: n % 3 == 0 ? ["Win.Test.EICAR_HDB-1"] : [],
                   route: Report.Route(from: "KZ", to: "RU"), quarantineID: n % 3 == 0 ? "q-\(n)" : nil)
    }
}

