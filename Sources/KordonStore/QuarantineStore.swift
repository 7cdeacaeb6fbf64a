import Foundation
import KordonCore
import KordonCrypto

/// Originals encrypted at rest (AES-256-GCM, one key file) with an SQLite index.
///
/// Layout of `directory` (mode 0700):
/// - `blobs/<id>.kq`: the original sealed with AES-256-GCM, the id as associated
///   data (a blob renamed to another id, or two blobs swapped, fails to open);
/// - `index.sqlite`: one row per message (``QuarantineRecord``), never the message.
///
/// A blob is written (temporary name, fsync, rename, fsync of `blobs/`) before its
/// row, so a row always has its blob; a crash in between leaves a blob without a
/// row, which the redo's ``put(id:original:report:time:)`` overwrites.
/// Safe to use from any number of threads and beside other processes (the CLI next
/// to the service): puts of the same id are serialized, the index is SQLite in WAL.
public final class QuarantineStore: Sendable {
    /// The store's directory.
    public let directory: URL
    let blobs: URL
    let cipher: AESGCM
    let index: QuarantineIndex
    /// Striped locks: puts of one id wait for each other, different ids rarely do.
    private let stripes: [NSLock] = (0..<32).map { _ in NSLock() }

    /// Opens (creating when missing) the store in `directory`; the key file is created 0600 when missing.
    public init(directory: URL, keyFile: String) throws {
        self.directory = directory
        blobs = directory.appendingPathComponent("blobs", isDirectory: true)
        try DurableFile.makeDirectory(directory.path)
        try DurableFile.makeDirectory(blobs.path)
        cipher = try AESGCM(key: try KeyFile.loadOrCreate(at: keyFile))
        index = try QuarantineIndex(path: directory.appendingPathComponent("index.sqlite").path)
    }

    /// Stores `original` under `id`. Idempotent: an id already stored is left as it is and its record returned.
    @discardableResult
    public func put(id: String, original: Data, report: Report, time: Date = Date()) throws -> QuarantineRecord {
        BlockingCallCheck.check("QuarantineStore.put")  // fsyncs
        try QuarantineID.validate(id)
        var record = QuarantineRecord(id: id, report: report, time: time)
        // The record describes what is stored: digest and size of these very bytes.
        record.sha256 = try SHA256Digest.hex(original)
        record.size = original.count
        return try withLock(id) {
            if let existing = try index.record(id: id) {
                // A blob lost from under its row is written again when it is the same message.
                if !FileManager.default.fileExists(atPath: blobURL(id).path), existing.sha256 == record.sha256 {
                    try writeBlob(id, original)
                }
                return existing
            }
            try writeBlob(id, original)
            return try index.insertIfMissing(record)
        }
    }

    /// Records, newest first, optionally since a time and with a reason (rule id or its prefix).
    public func list(since: Date? = nil, reason: String? = nil) throws -> [QuarantineRecord] {
        let records = try index.records(since: since)
        guard let reason, !reason.isEmpty else { return records }
        return records.filter { $0.hasReason(reason) }
    }

    /// One record.
    public func record(id: String) throws -> QuarantineRecord? {
        try QuarantineID.validate(id)
        return try index.record(id: id)
    }

    /// The decrypted original; throws `quarantine.tampered` when GCM rejects the blob.
    ///
    /// Throws `quarantine.unknown` when no record has this id and `quarantine.missing`
    /// when the record's blob is gone. The decrypted bytes must also have the digest
    /// and size the index recorded; otherwise nothing is returned.
    public func original(id: String) throws -> Data {
        guard let record = try record(id: id) else { throw Self.unknown(id) }
        let url = blobURL(id)
        guard let sealed = FileManager.default.contents(atPath: url.path) else {
            throw FileManager.default.fileExists(atPath: url.path) ? Self.unreadable(url) : missing(id)
        }
        let original = try Self.authenticating(id) { try cipher.open(sealed, associatedData: Self.associatedData(id)) }
        try Self.check(original.count, try SHA256Digest.hex(original), against: record)
        return original
    }

    /// Marks a record released.
    public func markReleased(id: String, note: String?) throws {
        try QuarantineID.validate(id)
        guard try index.markReleased(id: id, at: Date(), note: note) else { throw Self.unknown(id) }
    }

    /// Deletes a record and its blob.
    ///
    /// The row goes first: a crash in between leaves an orphan blob (encrypted,
    /// harmless, overwritten by a later put of the same id), never a row without blob.
    public func delete(id: String) throws {
        try QuarantineID.validate(id)
        try withLock(id) {
            let removed = try index.remove(id: id)
            let url = blobURL(id)
            if unlink(url.path) != 0 {
                guard errno == ENOENT else { throw DurableFile.failure("cannot remove \(url.path)", errno) }
                guard removed else { throw Self.unknown(id) }
            }
            try DurableFile.syncDirectory(blobs.path)
        }
    }

    /// Deletes everything stored before `date`; returns the ids deleted.
    public func purge(olderThan date: Date) throws -> [String] {
        var deleted: [String] = []
        for record in try index.records(before: date) {
            do {
                try delete(id: record.id)
                deleted.append(record.id)
            } catch let error as KordonError where error.code == .quarantineUnknown {
                continue // deleted meanwhile by someone else
            }
        }
        return deleted
    }

    /// Records stored before `date` (what ``purge(olderThan:)`` would delete), newest first.
    public func list(before date: Date) throws -> [QuarantineRecord] {
        try index.records(before: date)
    }

    /// Where the sealed original of `id` lives (exposed for operators and tests).
    public func blobURL(_ id: String) -> URL {
        blobs.appendingPathComponent(id + ".kq")
    }

    private func writeBlob(_ id: String, _ original: Data) throws {
        let sealed = try cipher.seal(original, associatedData: Self.associatedData(id))
        try DurableFile.write(sealed, to: blobURL(id), mode: 0o600)
    }

    func withLock<T>(_ id: String, _ body: () throws -> T) throws -> T {
        var hash: UInt32 = 2_166_136_261 // FNV-1a: stable and cheap
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let lock = stripes[Int(hash % UInt32(stripes.count))]
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The associated data binding a blob to its id.
    static func associatedData(_ id: String) -> [UInt8] {
        Array("kordon-quarantine:\(id)".utf8)
    }

    static func unknown(_ id: String) -> KordonError {
        KordonError(code: .quarantineUnknown, message: "no quarantined message has the id \(id); see kordon quarantine list")
    }

    /// `quarantine.missing`: the record is there, its blob is not.
    func missing(_ id: String) -> KordonError {
        KordonError(code: .quarantineMissing,
                    message: "the encrypted original of \(id) is missing from \(blobs.path); it cannot be served")
    }

    static func unreadable(_ blob: URL) -> KordonError {
        KordonError(code: "quarantine.unreadable", message: "cannot read \(blob.path): check its permissions")
    }

    /// Runs `body`, which opens `id`'s blob; GCM's refusal becomes `quarantine.tampered`.
    static func authenticating<T>(_ id: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KordonError where error.code == .aeadRejected {
            throw tampered(id, "GCM rejected the blob (changed, truncated, swapped with another, or another key)")
        }
    }

    /// Throws `quarantine.tampered` unless a decrypted original has the size and SHA-256 the index recorded.
    static func check(_ size: Int, _ sha256: String, against record: QuarantineRecord) throws {
        guard size == record.size, sha256 == record.sha256 else {
            throw tampered(record.id, "the decrypted original does not have the SHA-256 the index recorded")
        }
    }

    static func tampered(_ id: String, _ why: String) -> KordonError {
        KordonError(code: .quarantineTampered,
                    message: "the stored original of \(id) was tampered with or truncated: \(why); it is not served")
    }
}
