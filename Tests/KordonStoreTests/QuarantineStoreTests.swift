import Foundation
import KordonCore
import KordonCrypto
import KordonStore
import Testing

@Suite("Quarantine store", .timeLimit(.minutes(10)))
struct QuarantineStoreTests {
    private func message(_ n: Int) -> Data {
        Data("<Declaration><Number>\(n)</Number><Content>SECRET-MARKER-\(n)</Content></Declaration>".utf8)
    }

    @Test("put stores the original encrypted and indexes route, digests, verdict and reasons — never the message")
    func putAndRead() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let data = message(1)
        let report = storeReport(data, verdict: .quarantined, rules: ["Win.Test.EICAR_HDB-1", "xml.schema"])
        let record = try fixture.store.put(id: "m-0001", original: data, report: report)
        #expect(record.id == "m-0001")
        #expect(try record.sha256 == SHA256Digest.hex(data) && record.size == data.count)
        #expect(record.verdict == .quarantined)
        #expect(record.reasons == ["Win.Test.EICAR_HDB-1", "xml.schema"])
        #expect(record.route == Report.Route(from: "KZ", to: "RU"))
        #expect(record.source == "inbox/0001.xml")
        #expect(record.released == nil)
        #expect(try fixture.store.original(id: "m-0001") == data)
        #expect(try fixture.store.record(id: "m-0001")?.report.findings.count == 2)
        #expect(try fixture.store.record(id: "nothing") == nil)

        // Neither the blob nor the index (with its WAL) holds the message in clear.
        let marker = Data("SECRET-MARKER-1".utf8)
        let files = try FileManager.default.subpathsOfDirectory(atPath: fixture.directory.path)
        #expect(files.contains("blobs/m-0001.kq") && files.contains("index.sqlite"))
        for file in files {
            let contents = FileManager.default.contents(atPath: fixture.directory.appendingPathComponent(file).path) ?? Data()
            #expect(!storeContains(contents, marker), "\(file) holds the message in clear")
        }
    }

    @Test("the store's directory is 0700, blobs, index and key are 0600")
    func permissions() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "p", original: message(2), report: storeReport(message(2), verdict: .quarantined))
        #expect(try storeMode(fixture.directory.path) == 0o700)
        #expect(try storeMode(fixture.directory.appendingPathComponent("blobs").path) == 0o700)
        #expect(try storeMode(fixture.store.blobURL("p").path) == 0o600)
        #expect(try storeMode(fixture.directory.appendingPathComponent("index.sqlite").path) == 0o600)
        #expect(try storeMode(fixture.keyFile) == 0o600)
    }

    @Test("put is idempotent per id: a redo neither duplicates nor fails nor replaces")
    func idempotentPut() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let first = try fixture.store.put(id: "redo", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let again = try fixture.store.put(id: "redo", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let other = try fixture.store.put(id: "redo", original: message(9), report: storeReport(message(9), verdict: .sanitized))
        #expect(again.time == first.time && other.sha256 == first.sha256 && other.verdict == .quarantined)
        #expect(try fixture.store.list().count == 1)
        #expect(try fixture.store.original(id: "redo") == message(1))
    }

    @Test("a redo after a crash between blob and row completes the put")
    func redoAfterCrash() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        // A crash left a half-written blob and no row.
        try Data("half a blob".utf8).write(to: fixture.store.blobURL("crashed"))
        try fixture.store.put(id: "crashed", original: message(3), report: storeReport(message(3), verdict: .quarantined))
        #expect(try fixture.store.original(id: "crashed") == message(3))
        // A row whose blob went missing gets it back when the same message is put again.
        try FileManager.default.removeItem(at: fixture.store.blobURL("crashed"))
        #expect(storeErrorCode { _ = try fixture.store.original(id: "crashed") } == "quarantine.missing")
        try fixture.store.put(id: "crashed", original: message(3), report: storeReport(message(3), verdict: .quarantined))
        #expect(try fixture.store.original(id: "crashed") == message(3))
    }

    @Test("ids become file names: anything but [A-Za-z0-9._-]{1,128} is refused", arguments: [
        "", ".", "..", "../escape", "a/b", "with space", "tab\there", "ünïcode", String(repeating: "x", count: 129), "nul\u{0}",
    ])
    func invalidIDs(id: String) throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        #expect(storeErrorCode { try fixture.store.put(id: id, original: message(1), report: storeReport(message(1), verdict: .quarantined)) }
            == "quarantine.id")
        #expect(storeErrorCode { _ = try fixture.store.original(id: id) } == "quarantine.id")
        #expect(storeErrorCode { try fixture.store.delete(id: id) } == "quarantine.id")
        #expect(QuarantineID.isValid(String(repeating: "x", count: 128)) && QuarantineID.isValid("a.B_9-z"))
    }

    @Test("list is newest first and filters by time and by rule id or its prefix")
    func listAndFilter() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let now = Date()
        try fixture.store.put(id: "old", original: message(1), report: storeReport(message(1), verdict: .quarantined),
                              time: now.addingTimeInterval(-3 * 86400))
        try fixture.store.put(id: "mid", original: message(2), report: storeReport(message(2), verdict: .sanitized, rules: ["kz.iin"]),
                              time: now.addingTimeInterval(-3600))
        try fixture.store.put(id: "new", original: message(3), report: storeReport(message(3), verdict: .quarantined, rules: ["xml.schema"]),
                              time: now)
        #expect(try fixture.store.list().map(\.id) == ["new", "mid", "old"])
        #expect(try fixture.store.list(since: now.addingTimeInterval(-86400)).map(\.id) == ["new", "mid"])
        #expect(try fixture.store.list(reason: "kz.iin").map(\.id) == ["mid"])
        #expect(try fixture.store.list(reason: "Win.Test").map(\.id) == ["old"])
        #expect(try fixture.store.list(since: now.addingTimeInterval(-86400), reason: "Win.").isEmpty)
        #expect(try fixture.store.list(reason: "").count == 3)
        #expect(try fixture.store.list(before: now.addingTimeInterval(-60)).map(\.id) == ["mid", "old"])
    }

    @Test("markReleased records when and why; delete removes row and blob; purge deletes what is older")
    func releaseDeletePurge() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let now = Date()
        for (n, age) in [(1, 40.0), (2, 31.0), (3, 1.0), (4, 0.0)] {
            try fixture.store.put(id: "m\(n)", original: message(n), report: storeReport(message(n), verdict: .quarantined),
                                  time: now.addingTimeInterval(-age * 86400))
        }
        try fixture.store.markReleased(id: "m3", note: "forced: false positive")
        let released = try #require(try fixture.store.record(id: "m3"))
        #expect(released.released != nil && released.releaseNote == "forced: false positive")
        #expect(storeErrorCode { try fixture.store.markReleased(id: "nope", note: nil) } == "quarantine.unknown")

        try fixture.store.delete(id: "m4")
        #expect(try fixture.store.record(id: "m4") == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.store.blobURL("m4").path))
        #expect(storeErrorCode { _ = try fixture.store.original(id: "m4") } == "quarantine.unknown")
        #expect(storeErrorCode { try fixture.store.delete(id: "m4") } == "quarantine.unknown")

        let purged = try fixture.store.purge(olderThan: now.addingTimeInterval(-30 * 86400))
        #expect(Set(purged) == ["m1", "m2"])
        #expect(try fixture.store.list().map(\.id) == ["m3"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory.appendingPathComponent("blobs").path) == ["m3.kq"])
    }

    @Test("a reopened store has its records and still decrypts (same key file)")
    func reopen() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "kept", original: message(5), report: storeReport(message(5), verdict: .sanitized, rules: ["ru.inn"]))
        let reopened = try fixture.reopen()
        #expect(try reopened.record(id: "kept")?.reasons == ["ru.inn"])
        #expect(try reopened.original(id: "kept") == message(5))
    }

    @Test("8 threads putting at once: every message stored once, shared ids once")
    func concurrentPuts() async throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for thread in 0..<8 {
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                        Thread {
                            continuation.resume(with: Result {
                                for n in 0..<20 {
                                    let data = Data("thread \(thread) message \(n)".utf8)
                                    try store.put(id: "t\(thread)-\(n)", original: data, report: storeReport(data, verdict: .quarantined))
                                    // Every thread also redoes the same shared ids (the spool's crash redo).
                                    let shared = Data("shared \(n % 5)".utf8)
                                    try store.put(id: "shared-\(n % 5)", original: shared, report: storeReport(shared, verdict: .quarantined))
                                }
                            })
                        }.start()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.list().count == 8 * 20 + 5)
        #expect(try store.original(id: "t7-19") == Data("thread 7 message 19".utf8))
        #expect(try store.original(id: "shared-3") == Data("shared 3".utf8))
    }

    @Test("a blob with one byte flipped is reported tampered, never served")
    func flippedByte() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "flip", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let url = fixture.store.blobURL("flip")
        let sealed = try Data(contentsOf: url)
        for index in [0, 5, sealed.count / 2, sealed.count - 1] {
            var changed = sealed
            changed[index] ^= 0x40
            try changed.write(to: url)
            #expect(storeErrorCode { _ = try fixture.store.original(id: "flip") } == "quarantine.tampered", "byte \(index)")
        }
        try sealed.write(to: url)
        #expect(try fixture.store.original(id: "flip") == message(1))
    }

    @Test("a truncated blob is reported tampered", arguments: [0, 1, 12, 29, 40])
    func truncated(keep: Int) throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "cut", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let url = fixture.store.blobURL("cut")
        try Data(try Data(contentsOf: url).prefix(keep)).write(to: url)
        #expect(storeErrorCode { _ = try fixture.store.original(id: "cut") } == "quarantine.tampered")
    }

    @Test("two blobs swapped are both reported tampered (the id is bound to its blob)")
    func swapped() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "a", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        try fixture.store.put(id: "b", original: message(2), report: storeReport(message(2), verdict: .quarantined))
        let a = try Data(contentsOf: fixture.store.blobURL("a")), b = try Data(contentsOf: fixture.store.blobURL("b"))
        try b.write(to: fixture.store.blobURL("a"))
        try a.write(to: fixture.store.blobURL("b"))
        #expect(storeErrorCode { _ = try fixture.store.original(id: "a") } == "quarantine.tampered")
        #expect(storeErrorCode { _ = try fixture.store.original(id: "b") } == "quarantine.tampered")
    }

    @Test("a blob re-sealed with the key but other content fails the index's SHA-256")
    func resealedWithKey() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "forged", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let key = try #require(try KeyFile.read(fixture.keyFile))
        let forged = try AESGCM(key: key).seal(message(2), associatedData: Array("kordon-quarantine:forged".utf8))
        try forged.write(to: fixture.store.blobURL("forged"))
        #expect(storeErrorCode { _ = try fixture.store.original(id: "forged") } == "quarantine.tampered")
    }

    @Test("another key cannot open the store's blobs")
    func otherKey() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        try fixture.store.put(id: "k", original: message(1), report: storeReport(message(1), verdict: .quarantined))
        let other = try QuarantineStore(directory: fixture.directory, keyFile: fixture.root.appendingPathComponent("keys/other.key").path)
        #expect(storeErrorCode { _ = try other.original(id: "k") } == "quarantine.tampered")
    }
}
