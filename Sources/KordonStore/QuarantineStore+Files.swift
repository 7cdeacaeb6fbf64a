import Foundation
import KordonCore
import KordonCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Originals too large to hold in memory: stored from a file and served to a file,
/// a chunk at a time, with the same blobs, index rows and checks as the in-memory calls.
extension QuarantineStore {
    /// Stores the regular file at `path` under `id` without reading it into memory: it
    /// is streamed through AES-256-GCM into its blob and its SHA-256 taken on the way.
    /// `report` is given that digest and the size (known only once the file is read) and
    /// returns the report to record. Idempotent like ``put(id:original:report:time:)``:
    /// an id already stored with its blob is left as it is and its record returned.
    @discardableResult
    public func put(id: String, file path: String, time: Date = Date(),
                    report: (_ sha256: String, _ size: Int) -> Report) throws -> QuarantineRecord {
        BlockingCallCheck.check("QuarantineStore.put")  // fsyncs
        try QuarantineID.validate(id)
        return try withLock(id) {
            let existing = try index.record(id: id)
            if let existing, FileManager.default.fileExists(atPath: blobURL(id).path) { return existing }
            let input = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard input >= 0 else { throw DurableFile.failure("cannot open \(path)", errno) }
            defer { close(input) }
            var status = stat()
            guard fstat(input, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                throw KordonError(code: "quarantine.input", message: "\(path) is not a regular file; nothing stored")
            }
            let stored: (sha256: String, size: Int)
            do {
                stored = try DurableFile.write(to: blobURL(id), mode: 0o600) { output in
                    let digest = SHA256Digest.Running()
                    let size = try cipher.seal(reading: input, writing: output, associatedData: Self.associatedData(id),
                                               observe: digest.update)
                    let sha256 = try digest.finish()
                    // A blob lost from under its row is written again only when it is the same message.
                    if let existing, existing.sha256 != sha256 { throw OtherMessage() }
                    return (sha256, size)
                }
            } catch is OtherMessage {
                return existing!
            }
            var record = QuarantineRecord(id: id, report: report(stored.sha256, stored.size), time: time)
            // The record describes what is stored: digest and size of these very bytes.
            record.sha256 = stored.sha256
            record.size = stored.size
            return try existing ?? index.insertIfMissing(record)
        }
    }

    /// Writes the decrypted original of `id` to `output` without holding it in memory.
    /// Nothing GCM has not authenticated reaches `output`: the blob is decrypted into an
    /// unnamed file in the store's directory first (mode 0600, gone when closed), its
    /// digest and size checked against the record, and only then copied. Throws like
    /// ``original(id:)``: `quarantine.unknown`, `quarantine.missing`, `quarantine.tampered`.
    /// `verified` runs once the original is known good and before the first byte is
    /// copied (to record the view first); what it throws stops the copy.
    @discardableResult
    public func copyOriginal(id: String, to output: Int32, verified: () throws -> Void = {}) throws -> QuarantineRecord {
        guard let record = try record(id: id) else { throw Self.unknown(id) }
        let url = blobURL(id)
        let input = Glibc.open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw errno == ENOENT ? missing(id) : Self.unreadable(url) }
        defer { close(input) }
        var status = stat()
        guard fstat(input, &status) == 0 else { throw DurableFile.failure("cannot examine \(url.path)", errno) }
        // Unlinked at once: the name exists only between these two calls.
        let scratchPath = directory.path + "/.kordon-\(UUID().uuidString.lowercased()).open"
        let scratch = Glibc.open(scratchPath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard scratch >= 0 else { throw DurableFile.failure("cannot make a private file in \(directory.path)", errno) }
        unlink(scratchPath)
        defer { close(scratch) }
        let digest = SHA256Digest.Running()
        try Self.authenticating(id) {
            try cipher.open(reading: input, size: Int(status.st_size), writing: scratch,
                            associatedData: Self.associatedData(id), observe: digest.update)
        }
        try Self.check(Int(status.st_size) - AESGCM.overhead, try digest.finish(), against: record)
        guard lseek(scratch, 0, SEEK_SET) == 0 else { throw DurableFile.failure("cannot rewind a private file", errno) }
        try verified()
        try Self.copy(from: scratch, to: output)
        return record
    }

    /// Thrown inside a blob's write to abandon it: the bytes are not the message the row describes.
    private struct OtherMessage: Error {}

    /// Copies until the end of `input`.
    private static func copy(from input: Int32, to output: Int32) throws {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count: Int
            do {
                count = try FileDescriptorIO.read(input, into: buffer, count: size)
            } catch {
                throw DurableFile.failure("cannot read a private file", error.code)
            }
            if count == 0 { return }
            try DurableFile.writeAll(output, Data(bytesNoCopy: buffer, count: count, deallocator: .none), what: "the original")
        }
    }
}
