import Foundation
import KordonCore
import KordonCrypto
import KordonStore
import Testing

/// Originals stored from a file and served to a file, a chunk at a time: what the
/// spool does with a message too large to read into memory.
@Suite("Quarantine store, streamed", .timeLimit(.minutes(10)))
struct QuarantineStoreFileTests {
    /// 2.5 MiB with a marker, in a file under `fixture.root`.
    private func largeFile(_ fixture: QuarantineFixture) throws -> (path: String, data: Data) {
        var data = Data((0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })
        data.append(Data("SECRET-MARKER-LARGE".utf8))
        let url = fixture.root.appendingPathComponent("large.bin")
        try data.write(to: url)
        return (url.path, data)
    }

    /// What `copyOriginal` writes, read back from a scratch file.
    private func copied(_ store: QuarantineStore, _ id: String, _ fixture: QuarantineFixture) throws -> Data {
        let url = fixture.root.appendingPathComponent("copy-\(UUID().uuidString)")
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        defer { close(fd); unlink(url.path) }
        try store.copyOriginal(id: id, to: fd)
        return try Data(contentsOf: url)
    }

    @Test("a file is stored without reading it whole: same record, blob and checks as put; served back whole; a second put changes nothing")
    func storeAndServe() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let (path, data) = try largeFile(fixture)
        var seen: (String, Int)?
        let record = try fixture.store.put(id: "big-1", file: path) { sha256, size in
            seen = (sha256, size)
            return storeReport(data, verdict: .quarantined, rules: ["kordon.message-size"], source: "inbox/large.bin")
        }
        #expect(try seen?.0 == SHA256Digest.hex(data) && seen?.1 == data.count)
        #expect(try record.sha256 == SHA256Digest.hex(data) && record.size == data.count)
        #expect(record.reasons == ["kordon.message-size"])
        #expect(try fixture.store.original(id: "big-1") == data)
        #expect(try copied(fixture.store, "big-1", fixture) == data)
        #expect(try copied(fixture.reopen(), "big-1", fixture) == data)
        let blob = try Data(contentsOf: fixture.store.blobURL("big-1"))
        #expect(!storeContains(blob, Data("SECRET-MARKER-LARGE".utf8)))
        #expect(try storeMode(fixture.store.blobURL("big-1").path) == 0o600)

        // Idempotent: the stored blob and record stay.
        try Data("something else".utf8).write(to: URL(fileURLWithPath: path))
        let again = try fixture.store.put(id: "big-1", file: path) { _, _ in storeReport(data, verdict: .quarantined) }
        #expect(again.id == record.id && again.sha256 == record.sha256 && again.size == record.size && again.time == record.time)
        #expect(try Data(contentsOf: fixture.store.blobURL("big-1")) == blob)
        // Nothing but the blob and the index is left in the store's directories.
        let names = try FileManager.default.subpathsOfDirectory(atPath: fixture.directory.path)
        #expect(!names.contains { $0.contains(".kordon-") }, "\(names)")
    }

    @Test("a tampered blob is refused and nothing of it is written out")
    func tampered() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let (path, data) = try largeFile(fixture)
        try fixture.store.put(id: "big-2", file: path) { _, _ in storeReport(data, verdict: .quarantined) }
        var blob = try Data(contentsOf: fixture.store.blobURL("big-2"))
        blob[blob.count / 2] ^= 0x40
        try blob.write(to: fixture.store.blobURL("big-2"))
        let url = fixture.root.appendingPathComponent("out")
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        defer { close(fd) }
        let error = #expect(throws: KordonError.self) { try fixture.store.copyOriginal(id: "big-2", to: fd) }
        #expect(error?.code == "quarantine.tampered")
        #expect(try Data(contentsOf: url).isEmpty)
        let missing = #expect(throws: KordonError.self) { try fixture.store.copyOriginal(id: "nothing", to: fd) }
        #expect(missing?.code == "quarantine.unknown")
    }

    @Test("only a regular file is stored: a directory or a symlink is refused and nothing is recorded")
    func onlyRegularFiles() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let (path, data) = try largeFile(fixture)
        let link = fixture.root.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        for candidate in [fixture.root.path, link] {
            #expect(throws: KordonError.self) {
                try fixture.store.put(id: "odd", file: candidate) { _, _ in storeReport(data, verdict: .quarantined) }
            }
        }
        #expect(try fixture.store.record(id: "odd") == nil)
    }

    @Test("a streamed write that fails leaves nothing behind; one that succeeds is whole and never replaces")
    func streamedDurableWrite() throws {
        let fixture = try QuarantineFixture()
        defer { fixture.remove() }
        let (_, data) = try largeFile(fixture)
        try fixture.store.put(id: "big-3", original: data, report: storeReport(data, verdict: .quarantined))
        var blob = try Data(contentsOf: fixture.store.blobURL("big-3"))
        let target = fixture.root.appendingPathComponent("released.bin")
        try DurableFile.write(to: target, replace: false) { fd in try fixture.store.copyOriginal(id: "big-3", to: fd) }
        #expect(try Data(contentsOf: target) == data)
        let again = #expect(throws: KordonError.self) {
            try DurableFile.write(to: target, replace: false) { fd in try fixture.store.copyOriginal(id: "big-3", to: fd) }
        }
        #expect(again?.code == "durable.exists")

        blob[100] ^= 0x01
        try blob.write(to: fixture.store.blobURL("big-3"))
        let other = fixture.root.appendingPathComponent("other.bin")
        let tampered = #expect(throws: KordonError.self) {
            try DurableFile.write(to: other, replace: false) { fd in try fixture.store.copyOriginal(id: "big-3", to: fd) }
        }
        #expect(tampered?.code == "quarantine.tampered")
        let left = try FileManager.default.contentsOfDirectory(atPath: fixture.root.path)
        #expect(!left.contains("other.bin") && !left.contains { $0.hasPrefix(".kordon-") }, "\(left)")
    }
}
